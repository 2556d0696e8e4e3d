"""The people in a transfer: insured persons, employers and the HR staff who file for them."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from agencies.models import Region
from applications.people import identifiers


def region_exists(code: str) -> bool:
    return Region.objects.filter(code=code).exists()


class DocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    HK_MACAU_PERMIT = "hk_macau_permit", _("Mainland Travel Permit for Hong Kong and Macao Residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland Travel Permit for Taiwan Residents")
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent", _("Foreign Permanent Resident ID Card")


def check_document_number(document_type: str, number: str):
    """Check a document number by its type; returns the parsed ResidentId for resident IDs."""
    if document_type == DocumentType.RESIDENT_ID:
        return identifiers.check_resident_id(number, region_exists)
    checks = {
        DocumentType.HK_MACAU_PERMIT: identifiers.check_hk_macau_permit,
        DocumentType.TAIWAN_PERMIT: identifiers.check_taiwan_permit,
        DocumentType.FOREIGN_PERMANENT_RESIDENCE: identifiers.check_foreign_permanent_residence,
    }
    checks[document_type](number)
    return None


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Employer(models.Model):
    """An employing unit (用人单位), identified by its unified social credit code."""

    name = models.CharField(_("name"), max_length=100)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[identifiers.check_uscc]
    )
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("employer")
        verbose_name_plural = _("employers")

    def __str__(self):
        return self.name


class EmployerStaff(models.Model):
    """An HR user (单位经办人) who may file transfers for the employer's employees."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="employer_roles",
    )
    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.CASCADE, related_name="staff"
    )

    class Meta:
        verbose_name = _("employer HR staff")
        verbose_name_plural = _("employer HR staff")
        constraints = [models.UniqueConstraint(fields=["user", "employer"], name="employer_staff_unique")]

    def __str__(self):
        return f"{self.user} · {self.employer}"


class InsuredPerson(models.Model):
    """An insured person (参保人). The social security number is the ID number (Social Insurance Law
    art. 58); for resident IDs, sex and birth date are derived from the number."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="insured_person",
    )
    name = models.CharField(_("name"), max_length=60)
    document_type = models.CharField(
        _("document type"), max_length=20, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    document_number = models.CharField(_("document number"), max_length=18)
    # Blank in forms: for a resident ID both follow from the number (clean() and save() fill them in).
    sex = models.CharField(
        _("sex"),
        max_length=1,
        choices=Sex.choices,
        blank=True,
        help_text=_("Derived from a resident ID number."),
    )
    birth_date = models.DateField(
        _("birth date"), blank=True, help_text=_("Derived from a resident ID number.")
    )
    hukou_region = models.ForeignKey(
        Region,
        verbose_name=_("hukou region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Where the household registration (户籍) is; people without a hukou leave it empty."),
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    employer = models.ForeignKey(
        Employer,
        verbose_name=_("current employer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employees",
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("insured person")
        verbose_name_plural = _("insured persons")
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_number"],
                name="insured_person_unique_document",
                violation_error_message=_("A person with this document number is already registered."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.masked_document_number})"

    def save(self, *args, **kwargs):
        # Sex and birth date of a resident ID holder always follow the number, whoever saves.
        if self.document_type == DocumentType.RESIDENT_ID:
            parsed = identifiers.check_resident_id(self.document_number, region_exists)
            self.sex, self.birth_date = parsed.sex, parsed.birth_date
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.document_number:
            return
        try:
            parsed = check_document_number(self.document_type, self.document_number)
        except ValidationError as error:
            raise ValidationError({"document_number": error}) from None
        if parsed is not None:
            self.sex = parsed.sex
            self.birth_date = parsed.birth_date
        else:
            missing = {
                field: _("This document does not say it; please enter it.")
                for field in ("sex", "birth_date")
                if not getattr(self, field)
            }
            if missing:
                raise ValidationError(missing)

    @property
    def masked_document_number(self):
        return identifiers.mask_document_number(self.document_number)


class EmployerLinkRequest(models.Model):
    """An employer's request to put a person who has their own account on its list of employees (单位关联
    申请). The person decides in their portal; until they accept, the employer's HR cannot file for them.

    The row is the record of who asked, when, and what the person answered: an answered request is never
    changed again (and never deleted while its person or employer exists)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the person's answer")
        ACCEPTED = "accepted", _("Accepted by the person")
        DECLINED = "declined", _("Declined by the person")

    person = models.ForeignKey(
        InsuredPerson, verbose_name=_("person"), on_delete=models.CASCADE, related_name="employer_requests"
    )
    employer = models.ForeignKey(
        Employer, verbose_name=_("employer"), on_delete=models.CASCADE, related_name="link_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("employer link request")
        verbose_name_plural = _("employer link requests")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "employer"],
                condition=models.Q(status="pending"),
                name="employer_link_request_one_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", answered_at__isnull=True)
                | (~models.Q(status="pending") & models.Q(answered_at__isnull=False)),
                name="employer_link_request_answered_at",
            ),
        ]

    def __str__(self):
        return f"{self.employer} → {self.person} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        # An answer is final: the row is the audit record of it.
        if (
            self.pk
            and EmployerLinkRequest.objects.filter(pk=self.pk).exclude(status=self.Status.PENDING).exists()
        ):
            raise PermissionDenied("An answered employer link request is never changed.")
        super().save(*args, **kwargs)
