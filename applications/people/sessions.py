"""A user's sessions: which are open (so that they can be ended at once), and how long one may stay idle.

Django's session store cannot be searched by user, so each login records its session key
(AccountSession). Ending a user's sessions deletes them from the store: the next request of that browser
is anonymous. A password change does the same by itself (Django checks the password hash on each
request); signing out elsewhere, a deactivation and a second-factor reset do not change the password.

Idle time: the session remembers when it was last used; a request after more than the idle limit (30
minutes for agency staff, 2 hours for others by default) finds it ended. The page warns shortly before
(templates/_session_timer.html, polled with htmx; the poll itself does not count as use).
"""

import time

from django.conf import settings
from django.contrib.auth import logout, user_logged_in, user_logged_out
from django.dispatch import receiver
from django.urls import reverse
from django.utils.module_loading import import_string

from applications.models import AccountSession
from applications.people.second_factor import is_agency_staff

LAST_SEEN_KEY = "portal_last_seen"
REMEMBER_KEY = "portal_remember"
IDLE_ENDED_KEY = "portal_idle_ended_minutes"
# The session's "last used" is written at most this often (each write is a database update).
REFRESH_SECONDS = 15


def session_store():
    return import_string(settings.SESSION_ENGINE).SessionStore


def idle_limit(request) -> int:
    """Seconds a session may stay unused: agency staff never get the long "keep me signed in" one."""
    if is_agency_staff(request):
        return settings.SESSION_IDLE_SECONDS_AGENCY_STAFF
    if request.session.get(REMEMBER_KEY):
        return settings.SESSION_REMEMBER_SECONDS
    return settings.SESSION_IDLE_SECONDS


def seconds_left(request) -> int | None:
    last = request.session.get(LAST_SEEN_KEY)
    if last is None:
        return None
    return idle_limit(request) - (int(time.time()) - last)


def touch(request):
    """The session is in use now; its cookie lives until the browser closes unless remembered."""
    session = request.session
    session[LAST_SEEN_KEY] = int(time.time())
    session.set_expiry(
        idle_limit(request) if session.get(REMEMBER_KEY) and not is_agency_staff(request) else 0
    )


def end_sessions(user, *, keep=None) -> int:
    """End every open session of `user` (but the one whose key is `keep`); returns how many."""
    store = session_store()
    records = AccountSession.objects.filter(user=user)
    if keep:
        records = records.exclude(session_key=keep)
    keys = list(records.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    AccountSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def open_sessions(user, *, exclude=None) -> int:
    """How many sessions of `user` are still open (but `exclude`); records of sessions that expired or
    were cleared from the store are forgotten on the way."""
    store = session_store()
    records = AccountSession.objects.filter(user=user)
    if exclude:
        records = records.exclude(session_key=exclude)
    open_keys, gone = 0, []
    for key in records.values_list("session_key", flat=True):
        if store().exists(key):
            open_keys += 1
        else:
            gone.append(key)
    AccountSession.objects.filter(session_key__in=gone).delete()
    return open_keys


@receiver(user_logged_in, dispatch_uid="portal_record_session")
def record_session(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key is None:
        request.session.save()
    AccountSession.objects.update_or_create(session_key=request.session.session_key, defaults={"user": user})
    request.session[LAST_SEEN_KEY] = int(time.time())


@receiver(user_logged_out, dispatch_uid="portal_forget_session")
def forget_session(sender, request, user, **kwargs):
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        AccountSession.objects.filter(session_key=key).delete()


def is_status_poll(request) -> bool:
    return request.method == "GET" and request.path == reverse("session_status")


class IdleSessionMiddleware:
    """After the authentication middleware: a session unused for longer than its idle limit is ended
    (the request goes on as anonymous, so the page asks to log in); a used one is marked as used."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            left = seconds_left(request)
            if left is not None and left <= 0:
                minutes = idle_limit(request) // 60
                logout(request)
                request.session[IDLE_ENDED_KEY] = minutes
            elif not is_status_poll(request) and (left is None or self._stale(request)):
                touch(request)
        return self.get_response(request)

    @staticmethod
    def _stale(request):
        return int(time.time()) - request.session.get(LAST_SEEN_KEY, 0) >= REFRESH_SECONDS


def timer_context(request) -> dict:
    """What the page's idle timer needs: seconds until the warning and until the end."""
    left = seconds_left(request) if request.user.is_authenticated else None
    if left is None:
        return {}
    warning = settings.SESSION_WARNING_SECONDS
    return {
        "timer": True,
        "warning": left <= warning,
        "warn_in": max(left - warning, 1),
        "ends_in": max(left, 0) + 1,
        "minutes_left": max((left + 59) // 60, 1),
    }
