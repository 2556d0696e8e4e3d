"""The case: a transfer application, its append-only event trail, its documents and materials."""

import secrets
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import FileSystemStorage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Scheme
from applications.cases.states import CLOSED_STATES, State


class PrivateStorage(FileSystemStorage):
    """Files that only views checking the case's permissions may serve: never under a public URL.

    The location is read from settings.PRIVATE_STORAGE_DIR when first used and again whenever that
    setting changes (override_settings in tests), not frozen when the models are imported."""

    def __init__(self):
        super().__init__(base_url=None, allow_overwrite=True)

    @cached_property
    def base_location(self):
        return settings.PRIVATE_STORAGE_DIR

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_STORAGE_DIR":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)


def private_storage():
    return PrivateStorage()


class StateWriteRefused(PermissionDenied):
    """A case's state was written outside the workflow service."""


# The case whose state the workflow service is writing now (None: no state may change). The database
# holds the same rule in a trigger (migration 0012): see `writing_state`.
_state_writer: ContextVar[int | None] = ContextVar("case_state_writer", default=None)
STATE_WRITER_SETTING = "portal.case_state_writer"
STATE_REFUSAL = _("A case is created as a draft and its state changes only through the workflow service.")


@contextmanager
def writing_state(case):
    """Let this one case's state be saved, for the duration of the block: used by services.advance alone.

    Two layers say the same: the model's save and queryset refuse a changed state unless this block is
    open for the case, and on PostgreSQL a trigger refuses an UPDATE of the column (raw SQL included)
    unless the transaction-local setting names the case."""
    token = _state_writer.set(case.pk)
    postgres = connection.vendor == "postgresql"
    try:
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, %s, true)", [STATE_WRITER_SETTING, str(case.pk)])
        yield
        # Closed again at once (not only at commit), so nothing later in the same transaction may move a
        # case. After a failed save the transaction is rolled back, which clears the setting too.
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', true)", [STATE_WRITER_SETTING])
    finally:
        _state_writer.reset(token)


class CaseQuerySet(models.QuerySet):
    """No state written in bulk: only services.advance moves a case, one at a time."""

    def update(self, **kwargs):
        if "state" in kwargs:
            raise StateWriteRefused(STATE_REFUSAL)
        return super().update(**kwargs)

    update.alters_data = True

    def bulk_update(self, objs, fields, *args, **kwargs):
        if "state" in fields:
            raise StateWriteRefused(STATE_REFUSAL)
        return super().bulk_update(objs, fields, *args, **kwargs)

    bulk_update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if any(obj.state != State.DRAFT for obj in objs):
            raise StateWriteRefused(STATE_REFUSAL)
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True


def new_reference(prefix: str) -> str:
    # Random, not sequential: a reference number must not let anyone guess another case's.
    # Ten random digits a day: two equal references among a day's 10,000 cases is a 1-in-200 chance,
    # and the unique constraint turns even that into a retry, never a duplicate.
    return f"{prefix}{timezone.localdate():%Y%m%d}{secrets.randbelow(10**10):010d}"


class TransferApplication(models.Model):
    """One application per scheme (转移接续申请). A person asking for pension and medical at once
    files two, sharing a filing reference."""

    reference = models.CharField(_("case reference"), max_length=24, unique=True, editable=False)
    filing_reference = models.CharField(_("filing reference"), max_length=24, db_index=True, editable=False)
    scheme = models.CharField(_("scheme"), max_length=10, choices=Scheme.choices)
    person = models.ForeignKey(
        "applications.InsuredPerson",
        verbose_name=_("insured person"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="+"
    )
    filed_for_employer = models.ForeignKey(
        "applications.Employer",
        verbose_name=_("filed by HR of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filed_applications",
        help_text=_("Set when an employer's HR staff filed on the employee's behalf."),
    )
    new_employer = models.ForeignKey(
        "applications.Employer",
        verbose_name=_("new employer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty for self-paying (灵活就业) persons."),
    )
    transfer_out_agency = models.ForeignKey(
        Agency, verbose_name=_("transfer-out agency"), on_delete=models.PROTECT, related_name="outgoing_cases"
    )
    transfer_in_agency = models.ForeignKey(
        Agency, verbose_name=_("transfer-in agency"), on_delete=models.PROTECT, related_name="incoming_cases"
    )
    old_person_number = models.CharField(_("old personal number"), max_length=30, blank=True)
    agent_name = models.CharField(_("agent name (代办人)"), max_length=60, blank=True)
    agent_phone = models.CharField(_("agent phone"), max_length=20, blank=True)
    agent_relation = models.CharField(_("agent's relation"), max_length=30, blank=True)

    state = models.CharField(_("state"), max_length=30, choices=State.choices, default=State.DRAFT)
    due_date = models.DateField(_("due date of the open step"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    contact_letter_at = models.DateTimeField(_("contact letter sent at"), null=True, blank=True)
    funds_transferred_at = models.DateTimeField(_("funds transferred at"), null=True, blank=True)
    information_form_at = models.DateTimeField(_("information form sent at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("refused or withdrawn at"), null=True, blank=True)

    # The applicant's declarations for the eligibility check (applications/eligibility.py).
    declarations = models.JSONField(_("declarations"), default=dict, blank=True)
    temporary_account = models.BooleanField(
        _("temporary contribution account"),
        default=False,
        help_text=_(
            "Pension: the relationship stays at the old place; the new place keeps a temporary contribution "
            "account, which moves whole on the next transfer (66号 art. 5)."
        ),
    )
    overdue_notified_on = models.DateField(_("overdue notice sent for due date"), null=True, blank=True)

    # Step 3 (maker-checker): the transfer-out clerk enters, a different reviewer approves.
    personal_account_amount = models.DecimalField(
        _("personal account amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    pooled_fund_amount = models.DecimalField(
        _("pooled fund amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    temporary_account_amount = models.DecimalField(
        _("temporary account amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    transfer_total = models.DecimalField(
        _("total transferred"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    remittance_reference = models.CharField(_("remittance reference"), max_length=40, blank=True)
    amounts_entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("amounts entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    amounts_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("amounts approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Step 5: what the transfer-in agency actually received.
    received_amount = models.DecimalField(
        _("amount received"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    # Why the case was returned or refused, and on which legal basis.
    reason = models.TextField(_("reason"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transfer application")
        verbose_name_plural = _("transfer applications")
        indexes = [
            models.Index(fields=["transfer_in_agency", "state"]),
            models.Index(fields=["transfer_out_agency", "state"]),
            models.Index(fields=["due_date"]),
        ]
        constraints = [
            # Continuation only when the money received equals the information form's total. Both must
            # be present: in SQL a comparison with NULL is unknown, and a CHECK lets unknown through.
            models.CheckConstraint(
                condition=~Q(state="completed")
                | Q(
                    received_amount__isnull=False,
                    transfer_total__isnull=False,
                    received_amount=F("transfer_total"),
                ),
                name="completed_only_when_funds_match",
            ),
            # One open case per person and scheme: a second filing while one is under way is refused.
            models.UniqueConstraint(
                fields=["person", "scheme"],
                condition=~Q(state__in=[state.value for state in CLOSED_STATES]),
                name="one_open_case_per_person_and_scheme",
                violation_error_message=_("This person already has an open transfer of this scheme."),
            ),
            models.CheckConstraint(
                # An approval needs a recorded maker who is someone else (NULL would slip through a CHECK).
                condition=Q(amounts_approved_by__isnull=True)
                | Q(amounts_entered_by__isnull=False) & ~Q(amounts_approved_by=F("amounts_entered_by")),
                name="amounts_approved_by_another_person",
            ),
        ]

    def __str__(self):
        return self.reference

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self._state.adding:
            if self.state != State.DRAFT:
                raise StateWriteRefused(STATE_REFUSAL)
        elif (update_fields is None or "state" in update_fields) and self.state != getattr(
            self, "_saved_state", self.state
        ):
            if _state_writer.get() != self.pk:
                raise StateWriteRefused(STATE_REFUSAL)
        if not self.reference:
            self.reference = new_reference("YL" if self.scheme == Scheme.PENSION else "YB")
        if not self.filing_reference:
            self.filing_reference = new_reference("SQ")
        super().save(*args, **kwargs)
        self._saved_state = self.state

    @classmethod
    def from_db(cls, db, field_names, values):
        case = super().from_db(db, field_names, values)
        if "state" in field_names:
            case._saved_state = case.state
        return case

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or "state" in fields:
            self._saved_state = self.state


class AppendOnlyQuerySet(models.QuerySet):
    """Rows of the audit trail are added, never changed or removed: not one by one (the models' save and
    delete refuse) and not in bulk either (QuerySet.update and delete do not call those)."""

    def update(self, **kwargs):
        raise PermissionDenied(f"{self.model._meta.verbose_name_plural} are append-only.")

    update.alters_data = True

    def delete(self):
        raise PermissionDenied(f"{self.model._meta.verbose_name_plural} are append-only.")

    delete.alters_data = True


class AppendOnlyModel(models.Model):
    """The audit trail's rows: added, never changed or removed, neither one by one nor in bulk."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied(f"{self._meta.verbose_name_plural} are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied(f"{self._meta.verbose_name_plural} are append-only.")


class CaseEvent(AppendOnlyModel):
    """The audit trail of a case (append-only): who did what, when, from which state to which."""

    application = models.ForeignKey(
        TransferApplication, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("from state"), max_length=30, blank=True)
    to_state = models.CharField(_("to state"), max_length=30, blank=True)
    note = models.TextField(_("note"), blank=True)
    # What happened, as data (applications/audit.py): due date in force, amounts, document, rows.
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self):
        return f"{self.application_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class DocumentKind(models.TextChoices):
    APPLICATION_FORM = "application_form", _("Application form")
    CONTACT_LETTER = "contact_letter", _("Contact letter")
    FUND_TRANSFER_RECORD = "fund_transfer_record", _("Fund transfer record")
    INFORMATION_FORM = "information_form", _("Information form")
    CONTINUATION_NOTICE = "continuation_notice", _("Continuation notice")
    WRITTEN_EXPLANATION = "written_explanation", _("Written explanation")


class OfficialDocument(models.Model):
    """A rendered official form. The business step lives on the case; this is only processing status."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be rendered")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Rendering failed")

    application = models.ForeignKey(
        TransferApplication, verbose_name=_("case"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    issuing_agency = models.ForeignKey(
        Agency, verbose_name=_("issuing agency"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("processing status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    file = models.FileField(_("file"), storage=private_storage, upload_to="documents/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=16, unique=True, editable=False)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("render attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    # When the broker last took the rendering task (None: the dispatch after commit failed, or has not
    # happened yet): the sweeper queues a document that never reached the broker at once, without waiting
    # for the stuck threshold that covers messages lost after they were taken.
    dispatched_at = models.DateTimeField(_("task handed to the broker at"), null=True, blank=True)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("official document")
        verbose_name_plural = _("official documents")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind", "version"], name="document_unique_version"
            ),
        ]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self):
        return f"{self.application_id} {self.kind} v{self.version}"

    def save(self, *args, **kwargs):
        if not self.verification_code:
            # Printed on the form so that a receiver can check it against the portal.
            self.verification_code = secrets.token_hex(6).upper()
        super().save(*args, **kwargs)


class MaterialKind(models.TextChoices):
    ID_CARD = "id_card", _("Identity document")
    PENSION_MANUAL = "pension_manual", _("Endowment insurance manual")
    MEDICAL_CARD = "medical_card", _("Medical insurance card")
    PAYMENT_VOUCHER = "payment_voucher", _("Payment voucher (参保缴费凭证)")
    OTHER = "other", _("Other")


class Material(models.Model):
    """A file uploaded with an application (the content type is decided by its content)."""

    application = models.ForeignKey(
        TransferApplication, verbose_name=_("case"), on_delete=models.PROTECT, related_name="materials"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MaterialKind.choices)
    file = models.FileField(_("file"), storage=private_storage, upload_to="materials/")
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self):
        return f"{self.application_id} {self.kind}"


class ContributionYear(models.Model):
    """One row of the information form's yearly contribution table (entered by the transfer-out side)."""

    application = models.ForeignKey(
        TransferApplication,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="contribution_years",
    )
    region_code = models.CharField(_("division code"), max_length=6)
    place = models.CharField(_("place"), max_length=60)
    year = models.PositiveIntegerField(_("year"))
    start_month = models.PositiveSmallIntegerField(_("start month"))
    end_month = models.PositiveSmallIntegerField(_("end month"))
    months = models.PositiveSmallIntegerField(_("months"))
    monthly_base = models.DecimalField(_("monthly base"), max_digits=12, decimal_places=2)
    employer_rate = models.DecimalField(_("employer rate"), max_digits=5, decimal_places=4)
    credited_rate = models.DecimalField(
        _("rate credited to the personal account"), max_digits=5, decimal_places=4
    )
    individual_rate = models.DecimalField(_("individual rate"), max_digits=5, decimal_places=4)
    credited_amount = models.DecimalField(_("credited amount"), max_digits=12, decimal_places=2)
    interest = models.DecimalField(_("interest"), max_digits=12, decimal_places=2)
    year_end_balance = models.DecimalField(_("year-end balance"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["year", "start_month"]
        verbose_name = _("contribution year")
        verbose_name_plural = _("contribution years")
        constraints = [
            models.CheckConstraint(
                condition=Q(start_month__gte=1, end_month__lte=12, start_month__lte=F("end_month")),
                name="contribution_year_months_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.application_id} {self.year}"


class AccessRecord(AppendOnlyModel):
    """Who looked at a case or downloaded its files, and when (append-only, like CaseEvent)."""

    class What(models.TextChoices):
        VIEWED_CASE = "viewed_case", _("Viewed the case")
        DOWNLOADED_DOCUMENT = "downloaded_document", _("Downloaded a document")
        VIEWED_MATERIAL = "viewed_material", _("Viewed a material")
        EXPORTED = "exported", _("Exported a list")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        TransferApplication,
        verbose_name=_("case"),
        null=True,
        on_delete=models.PROTECT,
        related_name="access_records",
    )
    what = models.CharField(_("what"), max_length=30, choices=What.choices)
    object_id = models.PositiveBigIntegerField(_("document or material id"), null=True, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access record")
        verbose_name_plural = _("access records")

    def __str__(self):
        return f"{self.user_id} {self.what} {self.application_id} {self.at:%Y-%m-%d %H:%M}"
