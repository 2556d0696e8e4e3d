"""How a user, or a typed login name, is named on screen: an insured person's user name is their ID
number, so wherever a page names a user (the admin's change, delete and history pages, the label of a
related user on a case, an event or a material, the admin's history of actions) it must show the number
masked, as every list does (docs/security.md).

Those pages name a user by str(user), which django.contrib.auth's User answers with the user name, and
django-axes' logs name the typed login name the same way. No setting changes that, and the user model
cannot be swapped once a project has migrations, so at start-up (ApplicationsConfig.ready) the __str__ of
these three classes is replaced by one that masks a document number. Code that needs the real login name
asks for it (user.get_username(), attempt.username), as Django's own code does.
"""

from applications.people.identifiers import looks_like_document_number, mask_document_number


def masked_login(username) -> str:
    """A login name as pages may show it: one that is a document number is masked."""
    username = username or ""
    return mask_document_number(username) if looks_like_document_number(username) else username


def _user_str(user):
    return masked_login(user.get_username())


def _access_log_str(log):
    return f"Access Log for {masked_login(log.username)} @ {log.attempt_time}"


def _access_failure_log_str(failure):
    locked_out = " locked out" if failure.locked_out else ""
    return (
        f"Failed access: user {masked_login(failure.username)}{locked_out} on {failure.attempt_time} "
        f"from {failure.ip_address}"
    )


def install(user_model, access_log_model, access_failure_log_model):
    """Called once at start-up with the classes to name masked."""
    user_model.__str__ = _user_str
    access_log_model.__str__ = _access_log_str
    access_failure_log_model.__str__ = _access_failure_log_str
