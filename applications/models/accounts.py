"""The account's own records: its open sessions, and the account audit trail (append-only).

The case audit trail (CaseEvent, AccessRecord) is about a case: a password reset, a second factor reset
or an agency administrator deactivating a member concern an account and no case, so they have a table of
their own with the same append-only rule. Rows are written only by applications/audit.py.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .cases import AppendOnlyModel


class AccountSession(models.Model):
    """A session a user is logged in with, so that "sign out everywhere", a password reset and a
    deactivation can end them at once (the session store cannot be searched by user)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)

    class Meta:
        verbose_name = _("open session")
        verbose_name_plural = _("open sessions")

    def __str__(self):
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"


class AccountEvent(AppendOnlyModel):
    """Something that happened to an account: who did it (the user, their agency's administrator, a
    portal administrator, or nobody for a request by e-mail), and for which agency."""

    class Action(models.TextChoices):
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
        PASSWORD_RESET = "password_reset", _("Password reset by e-mail link")
        EMAIL_CHANGE_REQUESTED = "email_change_requested", _("E-mail change requested")
        EMAIL_CONFIRMED = "email_confirmed", _("E-mail address confirmed")
        OTHER_SESSIONS_ENDED = "other_sessions_ended", _("Signed out of all other sessions")
        SECOND_FACTOR_ENROLLED = "second_factor_enrolled", _("Second factor set up")
        BACKUP_CODES_MADE = "backup_codes_made", _("Backup codes made")
        BACKUP_CODE_USED = "backup_code_used", _("Backup code used")
        SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset")
        STAFF_INVITED = "staff_invited", _("Invited as agency staff")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        STAFF_ROLE_CHANGED = "staff_role_changed", _("Agency role changed")
        STAFF_DEACTIVATED = "staff_deactivated", _("Agency membership deactivated")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self):
        return f"{self.user_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
