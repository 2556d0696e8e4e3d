from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from applications.models import EmployerLinkRequest
from applications.people.sessions import timer_context


def today(request):
    """Today's date in China, for due-date badges."""
    return {"today": timezone.localdate()}


def unread_notifications(request):
    """The unread count in the navigation bar, employers' requests waiting for an answer included (one
    query, only for logged-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    pending = (
        EmployerLinkRequest.objects.filter(person__user=user, status=EmployerLinkRequest.Status.PENDING)
        .order_by()
        .values("person__user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    counts = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .aggregate(
            unread=Coalesce(Subquery(pending, output_field=IntegerField()), 0)
            + Count("notifications", filter=Q(notifications__read_at__isnull=True))
        )
    )
    return {"unread_notifications": counts["unread"]}


def session_timer(request):
    """When the page's idle warning shows (templates/_session_timer.html)."""
    return {"session_timer": timer_context(request)} if hasattr(request, "session") else {}
