from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from applications.models import (
    AccessRecord,
    AccountEvent,
    CaseEvent,
    ContributionYear,
    Employer,
    EmployerLinkRequest,
    EmployerStaff,
    InsuredPerson,
    Material,
    OfficialDocument,
    TransferApplication,
)
from applications.people.identifiers import looks_like_document_number
from applications.people.masked_names import masked_login

# Full ID numbers appear on one admin page only: the person's own change page (InsuredPerson). Elsewhere
# a user or a login name is named by str(), masked for document numbers (applications/people/masked_names.py),
# and the pages that show a login name as a field value show a masked copy instead (below).
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


class _MaskedUser:
    """The user as the password page names it (title, breadcrumbs, the hidden user name for password
    managers): masked. The form itself holds the real user."""

    def __init__(self, user):
        self.pk = user.pk
        self._label = str(user)

    def get_username(self):
        return self._label

    def __str__(self):
        return self._label


@admin.register(get_user_model())
class PortalUserAdmin(UserAdmin):
    list_display = ["masked_username", "first_name", "is_staff", "is_active"]
    list_select_related = ["insured_person"]

    @admin.display(description=_("username"), ordering="username")
    def masked_username(self, obj):
        return masked_user(obj)

    def action_checkbox(self, obj):
        return super().action_checkbox(_ListRow(obj.pk, self.masked_username(obj)))

    def _named_by_document_number(self, obj):
        return obj is not None and looks_like_document_number(obj.get_username())

    def get_fieldsets(self, request, obj=None):
        """An insured person's user name is their document number: shown masked and read-only (it is
        changed, if ever, with the person's record)."""
        fieldsets = super().get_fieldsets(request, obj)
        if not self._named_by_document_number(obj):
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": [f if f != "username" else "masked_username" for f in options["fields"]],
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "masked_username"] if self._named_by_document_number(obj) else readonly

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if isinstance(response, TemplateResponse) and response.context_data.get("original") is not None:
            context = response.context_data
            user = context["original"]
            context["title"] = context["title"].replace(escape(user.get_username()), escape(str(user)))
            context["original"] = _MaskedUser(user)
        return response

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
    # Like every formset of the portal (forms_cases.bounded_formset_factory): no more forms are built
    # than are accepted, whatever TOTAL_FORMS a post claims (Django's default allows max_num + 1,000).
    max_num = 500

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("absolute_max", self.get_max_num(request, obj, **kwargs))
        return super().get_formset(request, obj, **kwargs)


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


@admin.register(EmployerLinkRequest)
class EmployerLinkRequestAdmin(ReadOnlyAdmin):
    """The record of employers asking to list a person with an account, and of the answers."""

    list_display = ["requested_at", "employer", "person", "status", "answered_at"]
    list_filter = ["status"]
    search_fields = ["employer__name", "employer__uscc", "=person__document_number", "person__name"]
    list_select_related = ["employer", "person"]


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
def _masking_axes_admin(base):
    class MaskedAxesAdmin(base):
        list_display = ["masked_username" if name == "username" else name for name in base.list_display]
        # The change page shows the typed login name as a field: a masked copy takes its place.
        fieldsets = [
            (
                name,
                {
                    **options,
                    "fields": ["masked_username" if f == "username" else f for f in options["fields"]],
                },
            )
            for name, options in base.fieldsets
        ]
        readonly_fields = [*base.readonly_fields, "masked_username"]

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
