"""Bulk filing by an employer's HR staff: one uploaded CSV file, filed whole or not at all."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FilingBatch(models.Model):
    """One upload of the bulk filing page (批量申报). A rejected upload keeps its per-row error report
    (row, column, problem; never the uploaded values), so that it can be downloaded; a filed one links
    the applications it created, all in the same transaction."""

    class Status(models.TextChoices):
        REJECTED = "rejected", _("Rejected: nothing was filed")
        FILED = "filed", _("Filed")

    employer = models.ForeignKey(
        "applications.Employer",
        verbose_name=_("employer"),
        on_delete=models.PROTECT,
        related_name="filing_batches",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    errors = models.JSONField(_("errors (row, column, problem)"), default=list, blank=True)
    cases = models.ManyToManyField(
        "applications.TransferApplication",
        verbose_name=_("applications filed"),
        related_name="filing_batches",
        blank=True,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("bulk filing")
        verbose_name_plural = _("bulk filings")

    def __str__(self):
        return f"{self.employer_id} {self.created_at:%Y-%m-%d %H:%M} {self.status}"
