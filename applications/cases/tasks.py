"""The periodic task of the case logic: flagging overdue cases (the beat schedule runs it hourly)."""

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from applications.cases import services
from applications.models import TransferApplication


@shared_task(name="applications.tasks.flag_overdue_cases")
def flag_overdue_cases():
    """Flag every open case past its due date and e-mail the agency holding it (once per due date)."""
    today = timezone.localdate()
    overdue = TransferApplication.objects.filter(due_date__lt=today).filter(
        Q(overdue_notified_on__isnull=True) | ~Q(overdue_notified_on=F("due_date"))
    )
    return sum(services.notify_overdue(case, today) for case in overdue.iterator())
