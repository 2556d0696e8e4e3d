"""In-app notifications and each user's profile (preferred language, phone, an e-mail address awaiting
confirmation)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    # Insured persons' phone is on their person record (it is printed on the forms); everyone else's here.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # An address typed but not confirmed yet: user.email only ever holds a confirmed address, because a
    # password reset and the notifications go there.
    pending_email = models.EmailField(_("e-mail address awaiting confirmation"), blank=True)

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self):
        return f"{self.user} ({self.language})"


class Notification(models.Model):
    """'Something happened on a case that concerns you.' The text is made when shown, in the reader's
    language, from the action that happened."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    application = models.ForeignKey(
        "applications.TransferApplication", verbose_name=_("case"), on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(_("action"), max_length=40)
    to_state = models.CharField(_("new state"), max_length=30)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.user} {self.application_id} {self.action}"


class OutgoingEmail(models.Model):
    """An e-mail in the outbox (发件箱). It is written in the same transaction as the step or the overdue
    flag it tells of, so a broker that is down at commit loses nothing; a task sends it and marks it sent
    in one transaction with the row locked, so no retry and no second worker sends it twice; a periodic
    sweep sends what no task did (applications/notify/outbox.py)."""

    class Kind(models.TextChoices):
        NOTIFICATION = "notification", _("Notification of a step")
        OVERDUE = "overdue", _("Overdue notice")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Could not be sent")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    notification = models.OneToOneField(
        Notification,
        verbose_name=_("notification"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email",
    )
    application = models.ForeignKey(
        "applications.TransferApplication", verbose_name=_("case"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    to = models.EmailField(_("address"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        # The sweep's query: what is pending and due.
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.kind} {self.application_id} → {self.user_id} ({self.status})"
