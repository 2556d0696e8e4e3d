from django.shortcuts import redirect, render

from applications.people.roles import homes_of


def landing(request):
    """Send each user to their home; a user with several roles chooses one."""
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    homes = homes_of(request.user)
    if len(homes) == 1:
        return redirect(homes[0].url)
    return render(request, "choose_home.html", {"homes": homes})
