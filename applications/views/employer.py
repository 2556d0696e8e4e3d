from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from applications.models import Employer


@login_required
def employees(request, employer_id):
    # Only HR staff of this employer; anyone else gets the same 404 as for an employer that does not exist.
    employer = get_object_or_404(
        Employer.objects.select_related("region").filter(staff__user=request.user).distinct(), pk=employer_id
    )
    people = employer.employees.select_related("hukou_region").order_by("name")
    cases = employer.filed_applications.select_related("person", "transfer_in_agency", "transfer_out_agency")
    return render(
        request, "employer/employees.html", {"employer": employer, "people": people, "cases": cases}
    )
