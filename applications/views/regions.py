"""The region picker's parts, fetched by htmx: a province's cities, and a city's agencies."""

from django.shortcuts import render

from agencies.models import Agency
from applications.views.case_forms import prefecture_choices

PICKER_FIELDS = ("transfer_out_region", "transfer_in_region")


def region_picker(request):
    """The city select of one side, narrowed to the chosen province (all cities when none is chosen)."""
    field = request.GET.get("field")
    if field not in PICKER_FIELDS:
        field = PICKER_FIELDS[0]
    province = request.GET.get(field.replace("_region", "_province"), "")
    cities = prefecture_choices()
    if province.isdigit() and len(province) == 6:
        cities = cities.filter(code__startswith=province[:2])
    side = field.removesuffix("_region")
    return render(request, "cases/_city_select.html", {"field": field, "side": side, "cities": cities})


def agency_picker(request):
    side = request.GET.get("side")
    if side not in ("transfer_out", "transfer_in"):
        side = "transfer_out"
    code = request.GET.get(f"{side}_region", "")
    agencies = (
        Agency.objects.filter(region_id=code).order_by("scheme") if code.isdigit() else Agency.objects.none()
    )
    return render(request, "cases/_agencies.html", {"side": side, "agencies": agencies})
