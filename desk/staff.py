"""The agency administrator's pages: the agency's own staff, invitations, roles, deactivation and
second-factor resets.

Only administrators of the agency in the address get in; anyone else, and any member id that is not of
this agency, gets the same 404 as for something that does not exist. Administrators manage clerks and
reviewers, not themselves nor other administrators (a portal administrator appoints those).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import AgencyStaff
from applications.people import staff as staff_accounts
from applications.people.account_forms import InviteForm, RoleForm


def administered_agency(request, agency_id):
    membership = (
        AgencyStaff.objects.filter(
            user=request.user, agency_id=agency_id, role=AgencyStaff.Role.ADMINISTRATOR
        )
        .select_related("agency__region")
        .first()
    )
    if membership is None:
        raise Http404
    return membership.agency


def members_of(agency):
    return (
        AgencyStaff.everyone.filter(agency=agency)
        .select_related("user")
        .annotate(
            enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)),
            codes_left=Count("user__staticdevice__token_set", distinct=True),
        )
        .order_by("-active", "role", "user__username")
    )


def page(request, agency, invite_form=None, status=200):
    context = {
        "agency": agency,
        "members": members_of(agency),
        "invite_form": invite_form or InviteForm(),
        "role_choices": RoleForm.base_fields["role"].choices,
        "section": "staff",
    }
    return render(request, "agencies/staff.html", context, status=status)


@login_required
def staff_list(request, agency_id):
    return page(request, administered_agency(request, agency_id))


@login_required
@require_POST
def invite(request, agency_id):
    agency = administered_agency(request, agency_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return page(request, agency, invite_form=form)
    data = form.cleaned_data
    staff_accounts.invite(
        agency,
        request.user,
        username=data["username"],
        name=data["name"],
        email=data["email"],
        role=data["role"],
    )
    messages.success(
        request,
        _("The invitation to %(name)s has been sent to %(address)s.")
        % {"name": data["name"], "address": data["email"]},
    )
    return redirect("agency_staff", agency.pk)


def manageable_member(request, agency, staff_id):
    """The member, or None with a message saying why they cannot be managed here (nothing changes)."""
    member = get_object_or_404(AgencyStaff.everyone.select_related("user"), pk=staff_id, agency=agency)
    if member.user_id == request.user.pk:
        messages.error(request, _("You cannot change your own account here; ask a portal administrator."))
    elif member.role == AgencyStaff.Role.ADMINISTRATOR:
        messages.error(request, _("Agency administrators are managed by the portal administrators."))
    elif not member.active:
        messages.error(
            request, _("%(name)s is no longer a member of this agency.") % {"name": name_of(member)}
        )
    else:
        return member
    return None


def name_of(member):
    return member.user.first_name or member.user.username


@login_required
@require_POST
def change_role(request, agency_id, staff_id):
    agency = administered_agency(request, agency_id)
    member = manageable_member(request, agency, staff_id)
    form = RoleForm(request.POST)
    if member is not None:
        if not form.is_valid():
            messages.error(request, _("Choose clerk or reviewer."))
        elif (
            AgencyStaff.objects.filter(user=member.user, agency=agency, role=form.cleaned_data["role"])
            .exclude(pk=member.pk)
            .exists()
        ):
            messages.error(request, _("%(name)s already has this role.") % {"name": name_of(member)})
        else:
            member = staff_accounts.change_role(member, request.user, form.cleaned_data["role"])
            messages.success(
                request,
                _("%(name)s is now %(role)s.") % {"name": name_of(member), "role": member.get_role_display()},
            )
    return redirect("agency_staff", agency.pk)


@login_required
@require_POST
def deactivate(request, agency_id, staff_id):
    agency = administered_agency(request, agency_id)
    member = manageable_member(request, agency, staff_id)
    if member is not None:
        staff_accounts.deactivate(member, request.user)
        messages.success(
            request,
            _("%(name)s is no longer a member of this agency; their sessions have ended.")
            % {"name": name_of(member)},
        )
    return redirect("agency_staff", agency.pk)


@login_required
@require_POST
def reset_second_factor(request, agency_id, staff_id):
    agency = administered_agency(request, agency_id)
    member = manageable_member(request, agency, staff_id)
    if member is not None:
        staff_accounts.reset_second_factor(member.user, request.user, agency=agency)
        messages.success(
            request,
            _("The second factor of %(name)s has been reset: they set up a new one at their next login.")
            % {"name": name_of(member)},
        )
    return redirect("agency_staff", agency.pk)
