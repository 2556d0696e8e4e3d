"""The language kept on the account (UserProfile.language): applied from the moment the user logs in,
on every device, whatever the computer's language cookie said before. Anonymous pages follow the cookie
(the switcher); the portal never reads the browser's Accept-Language (ChineseUnlessChosenMiddleware)."""

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from applications.models import UserProfile

SESSION_KEY = "portal_language"


def remember(request, language):
    """The user chose `language` (switcher or profile): keep it for this session."""
    request.session[SESSION_KEY] = language


def current_language():
    language = translation.get_language() or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@receiver(user_logged_in, dispatch_uid="portal_apply_account_language")
def apply_account_language(sender, request, user, **kwargs):
    """At login the account's language wins. An account that never chose one (no profile yet) keeps the
    language of the computer it logs in on."""
    if request is None or not hasattr(request, "session"):
        return
    language = UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
    if language in dict(settings.LANGUAGES):
        remember(request, language)
        translation.activate(language)


class AccountLanguageMiddleware:
    """After the authentication middleware: a logged-in user's pages are in the account's language, and
    the language cookie follows it (so that the login page after logging out speaks it too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.session.get(SESSION_KEY) if request.user.is_authenticated else None
        if language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
