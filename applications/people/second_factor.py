"""A second factor (TOTP, django-otp) for agency staff and administrators: they see ID numbers, wages and
money of people across the country, so a password alone is not enough. Insured persons and HR staff are
not asked.

Whether a user is agency staff is asked of the database on each request (one indexed EXISTS, only while
the session has not passed the second factor), never kept in the session: a session opened before the
user was made staff must be asked for the factor from the next request on.
"""

from django.shortcuts import redirect
from django.urls import reverse

from agencies.models import AgencyStaff

# Pages an agency user may reach before the second factor: the factor itself (and the backup code pages,
# which check it themselves), logging out, the language, and the idle-session poll.
OPEN_PATHS = (
    "/accounts/otp/",
    "/accounts/logout/",
    "/accounts/session/",
    # Links from e-mails: they act on the account the link names, not on the one logged in.
    "/accounts/invitation/",
    "/accounts/email/",
    "/i18n/",
    "/static/",
    "/healthz",
)


def is_agency_staff(request) -> bool:
    """Staff of an agency (active memberships only) or an administrator of the portal; asked once per
    request and user (a login in the middle of a request changes the user)."""
    user = request.user
    memo = getattr(request, "_portal_agency_staff", None)
    if memo is None or memo[0] != user.pk:
        verified = getattr(user, "is_verified", None)
        staff = bool(
            user.is_authenticated
            and (
                # Administrators (the admin site) see everything agency staff see, and more.
                user.is_staff
                # A session that passed the factor is staff's (and saves the query on every page).
                or (verified is not None and verified())
                or AgencyStaff.objects.filter(user=user).exists()
            )
        )
        memo = request._portal_agency_staff = (user.pk, staff)
    return memo[1]


class AgencyStaffSecondFactorMiddleware:
    """After django-otp's OTPMiddleware: agency staff who have not passed the second factor in this
    session are sent to it, whatever page they ask for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PATHS)
            and not user.is_verified()
            and is_agency_staff(request)
        ):
            # Only the path comes back after the factor: a query may hold a searched ID number.
            return redirect(f"{reverse('otp')}?next={request.path}")
        return self.get_response(request)
