from django.utils import timezone

from applications.people.sessions import timer_context


def today(request):
    """Today's date in China, for due-date badges."""
    return {"today": timezone.localdate()}


def unread_notifications(request):
    """The unread count in the navigation bar (one query, only for logged-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from applications.models import Notification

    return {"unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()}


def session_timer(request):
    """When the page's idle warning shows (templates/_session_timer.html)."""
    return {"session_timer": timer_context(request)} if hasattr(request, "session") else {}
