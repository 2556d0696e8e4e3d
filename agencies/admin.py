from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.calendar import has_official_schedule
from agencies.models import Agency, AgencyStaff, CalendarDay, DeadlinePolicy, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "first_seen", "last_seen", "current"]
    list_filter = ["level", "current"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "scheme", "region", "online_connected"]
    list_filter = ["scheme", "online_connected"]
    search_fields = ["code", "name", "region__code", "region__name"]
    list_select_related = ["region__parent"]
    raw_id_fields = ["region"]


@admin.register(AgencyStaff)
class AgencyStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role", "active"]
    list_filter = ["role", "active", "agency__scheme"]
    search_fields = ["user__username", "user__first_name", "agency__code", "agency__name"]
    list_select_related = ["user", "agency"]
    raw_id_fields = ["user", "agency"]

    def get_queryset(self, request):
        # Deactivated memberships too (the default manager hides them).
        return AgencyStaff.everyone.select_related("user", "agency")


def warn_when_next_year_unknown(request):
    next_year = timezone.localdate().year + 1
    if not has_official_schedule(next_year) and not CalendarDay.objects.filter(date__year=next_year).exists():
        messages.warning(
            request,
            _(
                "The official holiday schedule for %(year)s is not known yet: deadlines falling in %(year)s count "
                "statutory holidays only. Enter its days off and make-up workdays below once the State Council "
                "publishes them."
            )
            % {"year": next_year},
        )


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "note"]
    list_filter = ["kind"]
    search_fields = ["note"]
    date_hierarchy = "date"

    def changelist_view(self, request, extra_context=None):
        warn_when_next_year_unknown(request)
        return super().changelist_view(request, extra_context)


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    list_display = ["scheme", "province", "contact_letter_days", "transfer_out_days", "continuation_days"]
    list_filter = ["scheme"]
    search_fields = ["province__name", "province__code"]
    raw_id_fields = ["province"]

    def changelist_view(self, request, extra_context=None):
        warn_when_next_year_unknown(request)
        return super().changelist_view(request, extra_context)
