from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from agencies.models import Agency, AgencyStaff


@login_required
def case_queue(request, agency_id):
    # Only staff of this agency; anyone else gets the same 404 as for an agency that does not exist.
    agency = get_object_or_404(
        Agency.objects.select_related("region").filter(staff__user=request.user).distinct(), pk=agency_id
    )
    roles = AgencyStaff.objects.filter(agency=agency, user=request.user).values_list("role", flat=True)
    return render(request, "agencies/queue.html", {"agency": agency, "roles": sorted(set(roles))})
