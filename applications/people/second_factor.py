"""A second factor (TOTP, django-otp) for agency staff and administrators: they see ID numbers, wages and
money of people across the country, so a password alone is not enough. Insured persons and HR staff are
not asked."""

from django.shortcuts import redirect
from django.urls import reverse

from agencies.models import AgencyStaff

SESSION_KEY = "is_agency_staff"
# Pages an agency user may reach before the second factor: the factor itself, logging out, the language.
OPEN_PATHS = ("/accounts/otp/", "/accounts/logout/", "/i18n/", "/static/", "/healthz")


def is_agency_staff(request) -> bool:
    if SESSION_KEY not in request.session:
        # Administrators (the admin site) see everything agency staff see, and more.
        request.session[SESSION_KEY] = (
            request.user.is_staff or AgencyStaff.objects.filter(user=request.user).exists()
        )
    return request.session[SESSION_KEY]


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
