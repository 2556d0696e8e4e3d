from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("Applicants and transfer cases")

    def ready(self):
        # Models can be imported only once the app registry is ready, hence here.
        from axes.models import AccessFailureLog, AccessLog
        from django.contrib.auth import get_user_model

        from applications.people import masked_names

        masked_names.install(get_user_model(), AccessLog, AccessFailureLog)
        # The receivers of user_logged_in/out: the session registry and the account's language.
        from applications.people import language, sessions  # noqa: F401
