from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("Applicants and transfer cases")

    def ready(self):
        # The receivers of user_logged_in/out: the session registry and the account's language.
        from applications.people import language, sessions  # noqa: F401
