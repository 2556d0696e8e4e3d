from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applications.employers import links
from applications.models import EmployerLinkRequest, InsuredPerson


@login_required
def my_applications(request):
    try:
        person = InsuredPerson.objects.select_related("hukou_region__parent__parent", "employer").get(
            user=request.user
        )
    except InsuredPerson.DoesNotExist:
        raise Http404 from None
    cases = person.applications.select_related("transfer_in_agency", "transfer_out_agency")
    context = {"person": person, "cases": cases, "employer_requests": links.pending_for(request.user)}
    return render(request, "insured/my_applications.html", context)


@login_required
@require_POST
def answer_employer_request(request, request_id):
    """The person accepts or declines an employer's request to put them on its list of employees."""
    choice = request.POST.get("answer")
    if choice not in ("accept", "decline"):
        raise Http404
    try:
        link = links.answer(request.user, request_id, accept=choice == "accept")
    except EmployerLinkRequest.DoesNotExist:
        raise Http404 from None  # not theirs, or answered already
    if choice == "accept":
        messages.success(
            request,
            _("You are now on the list of employees of %(employer)s.") % {"employer": link.employer.name},
        )
    else:
        messages.info(
            request, _("You declined the request of %(employer)s.") % {"employer": link.employer.name}
        )
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("my_applications")
