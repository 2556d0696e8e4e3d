from django.contrib import admin

from agencies.models import Agency, AgencyStaff, Region


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
    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency__scheme"]
    search_fields = ["user__username", "user__first_name", "agency__code", "agency__name"]
    list_select_related = ["user", "agency"]
    raw_id_fields = ["user", "agency"]
