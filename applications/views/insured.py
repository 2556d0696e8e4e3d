from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from applications.models import InsuredPerson


@login_required
def my_applications(request):
    try:
        person = InsuredPerson.objects.select_related("hukou_region__parent__parent", "employer").get(
            user=request.user
        )
    except InsuredPerson.DoesNotExist:
        raise Http404 from None
    cases = person.applications.select_related("transfer_in_agency", "transfer_out_agency")
    return render(request, "insured/my_applications.html", {"person": person, "cases": cases})
