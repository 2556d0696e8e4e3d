from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from applications.employers import links
from applications.models import Notification, UserProfile
from applications.notify.emails import message
from applications.people import language as account_language


@login_required
def notification_list(request):
    notifications = list(Notification.objects.filter(user=request.user).select_related("application")[:100])
    items = [(n, message(n)) for n in notifications]
    context = {"items": items, "employer_requests": links.pending_for(request.user)}
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def mark_all_read(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notifications")


def switch_language(request):
    """Django's set_language, and for a logged-in user the choice is kept for e-mails too."""
    response = set_language(request)
    language = request.POST.get("language")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(UserProfile.language.field.choices)
    ):
        UserProfile.objects.update_or_create(user=request.user, defaults={"language": language})
        account_language.remember(request, language)
    return response
