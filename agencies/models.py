"""The authority side: GB/T 2260 regions, the agencies of each scheme, and their staff."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scheme(models.TextChoices):
    """Since 2018 pension (人社) and medical insurance (医保) are run by different bodies."""

    PENSION = "pension", _("Basic pension insurance")
    MEDICAL = "medical", _("Basic medical insurance")


class Region(models.Model):
    """An administrative division code (行政区划代码, GB/T 2260), current or retired.

    Retired codes stay so that old resident IDs and payment vouchers still resolve to a place.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture")
        COUNTY = "county", _("County")

    code = models.CharField(_("division code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    # As published; for some retired codes the published parent no longer exists itself.
    parent_code = models.CharField(_("published parent code"), max_length=6, blank=True)
    # The nearest ancestor that exists in the table (used for display and grouping).
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    first_seen = models.CharField(_("first listed (YYYYMM)"), max_length=6, blank=True)
    last_seen = models.CharField(_("last listed (YYYYMM)"), max_length=6, blank=True)
    current = models.BooleanField(_("current"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return f"{self.code} {self.full_name}"

    @property
    def province_code(self):
        return self.code[:2] + "0000"

    @property
    def full_name(self):
        """Name with its ancestors, skipping the placeholder names of municipalities (市辖区, 县)."""
        names = []
        region = self
        while region is not None:
            if region.name not in PLACEHOLDER_NAMES:
                names.append(region.name)
            region = region.parent
        return "".join(reversed(names))


# Names GB/T 2260 gives to groupings rather than places.
PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


class Agency(models.Model):
    """A social insurance (pension) or medical security agency (经办机构) with its fund account."""

    code = models.CharField(_("agency code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    scheme = models.CharField(_("scheme"), max_length=10, choices=Scheme.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    address = models.CharField(_("address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=6)
    phone = models.CharField(_("phone"), max_length=40)
    online_connected = models.BooleanField(
        _("connected to the national transfer platform"),
        default=True,
        help_text=_("Connected agencies exchange letters online; no paper payment voucher is needed."),
    )
    fund_account_name = models.CharField(_("fund account name (户名)"), max_length=100)
    fund_bank = models.CharField(_("bank (开户银行)"), max_length=100)
    fund_account_number = models.CharField(_("account number (账号)"), max_length=40)

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "scheme", "name"], name="agency_unique_name_per_region"
            ),
        ]

    def __str__(self):
        return self.name


class ActiveStaffManager(models.Manager):
    """Only memberships in force. It is the default manager, so that a deactivated member is nobody's
    staff anywhere (queues, case parties, notifications, the second factor, homes) without each query
    having to remember it; `AgencyStaff.everyone` also sees the deactivated ones (the staff list, admin)."""

    def get_queryset(self):
        return super().get_queryset().filter(active=True)


class AgencyStaff(models.Model):
    """A user working for an agency. Money-moving steps need a reviewer who is not the maker.

    Clerks and reviewers work cases; an agency administrator manages the agency's own staff (invites,
    roles, deactivation, second-factor resets) and is no party to any case."""

    class Role(models.TextChoices):
        CLERK = "clerk", _("Clerk")
        REVIEWER = "reviewer", _("Reviewer")
        ADMINISTRATOR = "administrator", _("Agency administrator")

    # The roles that work cases (applications/states.py Role); the administrator's is not one of them.
    CASE_ROLES = (Role.CLERK, Role.REVIEWER)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="agency_roles",
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="staff"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    objects = ActiveStaffManager()
    everyone = models.Manager()  # noqa: DJ012 - a second manager, not a field

    class Meta:
        verbose_name = _("agency staff")
        verbose_name_plural = _("agency staff")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="agency_staff_unique_role"),
        ]

    def __str__(self):
        return f"{self.user} · {self.agency} · {self.get_role_display()}"


class DeadlinePolicy(models.Model):
    """Working days allowed per step window, per scheme and optionally per province (a province may
    promise shorter deadlines than the national ones). Without a row, the national defaults apply."""

    scheme = models.CharField(_("scheme"), max_length=10, choices=Scheme.choices)
    province = models.ForeignKey(
        Region,
        verbose_name=_("province"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"level": "province"},
        help_text=_("Empty: the national rule for every province."),
    )
    contact_letter_days = models.PositiveSmallIntegerField(_("contact letter (transfer-in), working days"))
    transfer_out_days = models.PositiveSmallIntegerField(
        _("funds and information form (transfer-out), working days")
    )
    continuation_days = models.PositiveSmallIntegerField(_("continuation (transfer-in), working days"))

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "province"], name="deadline_policy_unique"),
            models.UniqueConstraint(
                fields=["scheme"],
                condition=models.Q(province__isnull=True),
                name="deadline_policy_one_national",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    contact_letter_days__gte=1, transfer_out_days__gte=1, continuation_days__gte=1
                ),
                name="deadline_policy_positive",
            ),
        ]

    def __str__(self):
        place = self.province.name if self.province else _("national")
        return f"{self.get_scheme_display()} · {place}"


class CalendarDay(models.Model):
    """A correction to the official calendar: an extra holiday or a make-up workday (调休), for years
    whose State Council schedule the `holidays` package does not have yet."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Day off")
        WORKDAY = "workday", _("Make-up workday")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar correction")
        verbose_name_plural = _("calendar corrections")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"
