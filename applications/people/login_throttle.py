"""Login throttling: django-axes' database handler with three limits instead of one.

django-axes counts a list of lockout parameters against ONE limit, and a good login (AXES_RESET_ON_SUCCESS)
deletes every failure that matches any of them. With ["username", "ip_address"], a good login with any
account cleared the failures counted from that address against every other user name: four guesses, one
login of one's own, four more, never locked. An insured person's user name is their ID number, and they
have no second factor, so the guessing must stop for real.

Failures within the cool-off (AXES_COOLOFF_TIME) are counted three ways, each against its own limit:

- one user name from one address: AXES_FAILURE_LIMIT (5), the lock a guesser meets first;
- one user name from every address: LOGIN_FAILURES_PER_USER_NAME (20), so that many addresses do not
  buy more guesses, while the owner at home is not locked out by the first five of a stranger's;
- one address for every user name: LOGIN_FAILURES_PER_ADDRESS (50), against one password tried on many
  ID numbers (set high: offices and mobile networks share addresses).

A good login clears only the failures of its own user name from its own address.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginThrottle(AxesDatabaseHandler):
    def failure_counts(self, request, credentials=None) -> dict[str, int]:
        """Recent failures of this request's user name from its address, from every address, and of its
        address for every user name."""
        username = get_client_username(request, credentials)
        address = request.axes_ip_address
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        return {
            "user_name_and_address": _failures(recent.filter(username=username, ip_address=address)),
            "user_name": _failures(recent.filter(username=username)),
            "address": _failures(recent.filter(ip_address=address)),
        }

    def get_failures(self, request, credentials=None) -> int:
        # django-axes locks when this reaches AXES_FAILURE_LIMIT, so each count is put on that scale:
        # count * limit // own_limit reaches `limit` exactly when count reaches its own limit.
        limit = get_failure_limit(request, credentials)
        counts = self.failure_counts(request, credentials)
        return max(
            counts["user_name_and_address"],
            counts["user_name"] * limit // settings.LOGIN_FAILURES_PER_USER_NAME,
            counts["address"] * limit // settings.LOGIN_FAILURES_PER_ADDRESS,
        )

    def reset_user_attempts(self, request, credentials=None) -> int:
        """After a good login: this user name's failures from this address, and nothing else (not other
        user names' from this address, not a guesser's elsewhere against this user name)."""
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials), ip_address=request.axes_ip_address
        ).delete()
        return count
