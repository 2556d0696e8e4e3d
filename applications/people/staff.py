"""Agency staff accounts, managed by their agency's administrator (or a portal administrator): invite,
change a role, deactivate, reset a second factor. Each change is one transaction with its account event;
the member's sessions end at once where the change takes something away."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import AgencyStaff
from applications.cases import audit
from applications.models import EmployerStaff, InsuredPerson, UserProfile
from applications.people import mail
from applications.people.sessions import end_sessions

# The roles an agency administrator gives; administrators are appointed by a portal administrator.
INVITABLE_ROLES = (AgencyStaff.Role.CLERK, AgencyStaff.Role.REVIEWER)


def invite(agency, administrator, *, username, name, email, role):
    """A new account for a clerk or reviewer, with no password until the e-mailed link sets one."""
    with transaction.atomic():
        user = get_user_model()(username=username, first_name=name)
        user.set_unusable_password()
        user.save()
        UserProfile.objects.create(user=user, pending_email=email)
        membership = AgencyStaff.objects.create(user=user, agency=agency, role=role)
        audit.staff_invited(user, administrator, agency, role=role)
        mail.invitation(user, email, agency, AgencyStaff.Role(role).label, administrator)
    return membership


def accept_invitation(user, password):
    """The invited member chose a password: the invited address is theirs (the link reached it)."""
    with transaction.atomic():
        user.set_password(password)
        profile, _created = UserProfile.objects.get_or_create(user=user)
        if profile.pending_email:
            user.email, profile.pending_email = profile.pending_email, ""
            profile.save(update_fields=["pending_email"])
        user.save(update_fields=["password", "email"])
        audit.invitation_accepted(user)


def change_role(membership, administrator, role):
    with transaction.atomic():
        membership = AgencyStaff.objects.select_for_update().get(pk=membership.pk)
        previous = membership.role
        if previous == role:
            return membership
        membership.role = role
        membership.save(update_fields=["role"])
        audit.staff_role_changed(
            membership.user, administrator, membership.agency, from_role=previous, to_role=role
        )
    return membership


def has_other_roles(user, membership) -> bool:
    return (
        user.is_staff
        or AgencyStaff.objects.filter(user=user).exclude(pk=membership.pk).exists()
        or EmployerStaff.objects.filter(user=user).exists()
        or InsuredPerson.objects.filter(user=user).exists()
    )


def deactivate(membership, administrator):
    """The membership ends; an account that was only this membership is closed too (it cannot log in);
    every session of the member ends at once."""
    with transaction.atomic():
        membership = AgencyStaff.objects.select_for_update().select_related("user").get(pk=membership.pk)
        membership.active = False
        membership.deactivated_at = timezone.now()
        membership.save(update_fields=["active", "deactivated_at"])
        user = membership.user
        close = not has_other_roles(user, membership)
        if close:
            user.is_active = False
            user.save(update_fields=["is_active"])
        ended = end_sessions(user)
        audit.staff_deactivated(
            user,
            administrator,
            membership.agency,
            role=membership.role,
            account_closed=close,
            sessions_ended=ended,
        )
    return membership


def reset_second_factor(user, actor, *, agency=None):
    """The authenticator and the backup codes are removed; the member sets up a new one at the next
    login (sessions end now, so that a lost phone's session does not stay open)."""
    with transaction.atomic():
        devices = TOTPDevice.objects.filter(user=user).delete()[1].get(TOTPDevice._meta.label, 0)
        devices += StaticDevice.objects.filter(user=user).delete()[1].get(StaticDevice._meta.label, 0)
        ended = end_sessions(user)
        audit.second_factor_reset(user, actor, agency=agency, devices=devices, sessions_ended=ended)
    return devices
