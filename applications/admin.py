from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from applications.models import Employer, EmployerStaff, InsuredPerson


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin):
    # ID numbers are masked in the list; the full number is on the change page only.
    list_display = ["name", "document_type", "masked_number", "sex", "birth_date", "hukou_region", "employer"]
    list_filter = ["document_type", "sex"]
    search_fields = ["name", "=document_number", "phone"]
    list_select_related = ["hukou_region__parent__parent", "employer"]
    raw_id_fields = ["user", "hukou_region", "employer"]
    readonly_fields = ["created_at"]

    @admin.display(description=_("document number"), ordering="document_number")
    def masked_number(self, obj):
        return obj.masked_document_number


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
    list_display = ["user", "employer"]
    search_fields = ["user__username", "user__first_name", "employer__name", "employer__uscc"]
    list_select_related = ["user", "employer"]
    raw_id_fields = ["user", "employer"]
