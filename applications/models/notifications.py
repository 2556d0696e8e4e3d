"""In-app notifications and each user's profile (preferred language, phone, an e-mail address awaiting
confirmation)."""

from django.conf import settings
from django.db import models
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
