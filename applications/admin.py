from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from applications.identifiers import looks_like_document_number, mask_document_number
from applications.models import (
    AccessRecord,
    AccountEvent,
    CaseEvent,
    ContributionYear,
    Employer,
    EmployerStaff,
    InsuredPerson,
    Material,
    OfficialDocument,
    TransferApplication,
)
from applications.people.staff import reset_second_factor


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin):
    # ID numbers are masked in the list; the full number is on the change page only.
    list_display = ["name", "document_type", "masked_number", "sex", "birth_date", "hukou_region", "employer"]
    list_filter = ["document_type", "sex"]
    search_fields = ["name", "=document_number", "phone"]
    list_select_related = ["hukou_region__parent__parent", "employer"]
    raw_id_fields = ["user", "hukou_region", "employer"]
    readonly_fields = ["created_at"]
    # Sex and birth date are entered for other documents only; a resident ID number gives both.
    fields = [
        "name",
        "document_type",
        "document_number",
        "sex",
        "birth_date",
        "hukou_region",
        "phone",
        "address",
        "employer",
        "user",
        "created_at",
    ]

    @admin.display(description=_("document number"), ordering="document_number")
    def masked_number(self, obj):
        return obj.masked_document_number


def masked_user(user):
    """A user as lists may show them: an insured person's user name is their ID number, so it is masked."""
    if user is None:
        return "—"
    person = getattr(user, "insured_person", None)
    if person is not None and user.username == person.document_number:
        return person.masked_document_number
    return user.username


# Insured persons log in with their document number, so the user list masks it like every other list.
admin.site.unregister(get_user_model())


class _ListRow:
    """What the action checkbox's screen-reader label names: the row's key and its masked label."""

    def __init__(self, pk, label):
        self.pk, self.label = pk, label

    def __str__(self):
        return self.label


@admin.register(get_user_model())
class PortalUserAdmin(UserAdmin):
    list_display = ["masked_username", "first_name", "is_staff", "is_active"]
    list_select_related = ["insured_person"]

    @admin.display(description=_("username"), ordering="username")
    def masked_username(self, obj):
        return masked_user(obj)

    def action_checkbox(self, obj):
        return super().action_checkbox(_ListRow(obj.pk, self.masked_username(obj)))

    actions = ["reset_second_factor"]

    @admin.action(
        description=_("Reset the second factor (lost phone): a new one is set up at the next login")
    )
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            reset_second_factor(user, request.user)
        messages.success(
            request, _("Second factor reset for %(count)s accounts.") % {"count": queryset.count()}
        )


class EmployerStaffInline(admin.TabularInline):
    model = EmployerStaff
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "region"]
    search_fields = ["name", "uscc"]
    list_select_related = ["region__parent__parent"]
    raw_id_fields = ["region"]
    inlines = [EmployerStaffInline]


@admin.register(EmployerStaff)
class EmployerStaffAdmin(admin.ModelAdmin):
    list_display = ["masked_user", "employer"]
    search_fields = ["user__username", "user__first_name", "employer__name", "employer__uscc"]
    list_select_related = ["user__insured_person", "employer"]

    @admin.display(description=_("user"), ordering="user__username")
    def masked_user(self, obj):
        return masked_user(obj.user)

    raw_id_fields = ["user", "employer"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases change only through the workflow service, and the audit trail never changes: the admin
    may look, not touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TransferApplication)
class TransferApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "scheme",
        "person",
        "state",
        "due_date",
        "transfer_out_agency",
        "transfer_in_agency",
    ]
    list_filter = ["scheme", "state"]
    search_fields = ["reference", "filing_reference", "person__name", "=person__document_number"]
    list_select_related = ["person", "transfer_out_agency", "transfer_in_agency"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["application", "at", "action", "from_state", "to_state", "masked_actor"]
    list_filter = ["action"]
    search_fields = ["application__reference", "actor__username"]
    list_select_related = ["application", "actor__insured_person"]

    @admin.display(description=_("actor"), ordering="actor__username")
    def masked_actor(self, obj):
        return masked_user(obj.actor)


@admin.register(OfficialDocument)
class OfficialDocumentAdmin(ReadOnlyAdmin):
    list_display = ["application", "kind", "version", "status", "verification_code", "rendered_at"]
    list_filter = ["kind", "status"]
    search_fields = ["application__reference", "verification_code"]
    list_select_related = ["application"]
    exclude = ["file"]


@admin.register(Material)
class MaterialAdmin(ReadOnlyAdmin):
    list_display = ["application", "kind", "content_type", "size", "uploaded_at"]
    search_fields = ["application__reference"]
    list_select_related = ["application"]
    exclude = ["file"]


@admin.register(ContributionYear)
class ContributionYearAdmin(ReadOnlyAdmin):
    list_display = ["application", "year", "region_code", "months", "monthly_base", "year_end_balance"]
    search_fields = ["application__reference"]
    list_select_related = ["application"]


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "masked_user", "what", "application", "object_id"]
    list_filter = ["what"]
    search_fields = ["application__reference", "user__username"]
    list_select_related = ["user__insured_person", "application"]

    @admin.display(description=_("user"), ordering="user__username")
    def masked_user(self, obj):
        return masked_user(obj.user)


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "masked_user", "action", "agency", "masked_actor"]
    list_filter = ["action"]
    search_fields = ["user__username"]
    list_select_related = ["user__insured_person", "actor__insured_person", "agency"]

    @admin.display(description=_("account"), ordering="user__username")
    def masked_user(self, obj):
        return masked_user(obj.user)

    @admin.display(description=_("done by"), ordering="actor__username")
    def masked_actor(self, obj):
        return masked_user(obj.actor)


# django-axes lists the user names of logins and failed logins; an insured person's is their ID number.
def masked_login(username):
    """A typed user name as lists may show it: one that is a document number is masked."""
    username = username or ""
    return mask_document_number(username) if looks_like_document_number(username) else username


def _masking_axes_admin(base):
    class MaskedAxesAdmin(base):
        list_display = ["masked_username" if name == "username" else name for name in base.list_display]

        @admin.display(description=_("username"), ordering="username")
        def masked_username(self, obj):
            return masked_login(obj.username)

        def action_checkbox(self, obj):
            # The checkbox's label names the row by its __str__, which holds the user name.
            return super().action_checkbox(_ListRow(obj.pk, f"{obj.pk} {masked_login(obj.username)}"))

    MaskedAxesAdmin.__name__ = MaskedAxesAdmin.__qualname__ = f"Masked{base.__name__}"
    return MaskedAxesAdmin


def _mask_axes_lists():
    from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model, base in (
        (AccessAttempt, AccessAttemptAdmin),
        (AccessLog, AccessLogAdmin),
        (AccessFailureLog, AccessFailureLogAdmin),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
            admin.site.register(model, _masking_axes_admin(base))


_mask_axes_lists()
