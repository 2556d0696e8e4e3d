from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, render

from agencies.models import Agency, AgencyStaff
from applications import workflow
from applications.models import TransferApplication


@login_required
def case_queue(request, agency_id):
    # Only staff of this agency; anyone else gets the same 404 as for an agency that does not exist.
    agency = get_object_or_404(
        Agency.objects.select_related("region").filter(staff__user=request.user).distinct(), pk=agency_id
    )
    roles = AgencyStaff.objects.filter(agency=agency, user=request.user).values_list("role", flat=True)
    # The open cases that wait for this agency, most urgent first.
    in_states = [
        s
        for s, party in workflow.HOLDER.items()
        if party in (workflow.Party.IN_CLERK, workflow.Party.IN_REVIEWER)
    ]
    out_states = [
        s
        for s, party in workflow.HOLDER.items()
        if party in (workflow.Party.OUT_CLERK, workflow.Party.OUT_REVIEWER)
    ]
    cases = (
        TransferApplication.objects.filter(
            Q(transfer_in_agency=agency, state__in=in_states)
            | Q(transfer_out_agency=agency, state__in=out_states)
        )
        .select_related("person", "transfer_in_agency", "transfer_out_agency")
        .order_by("due_date", "submitted_at")
    )
    return render(
        request, "agencies/queue.html", {"agency": agency, "roles": sorted(set(roles)), "cases": cases}
    )
