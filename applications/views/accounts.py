from django.contrib import messages
from django.contrib.auth import login
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from applications.people.forms import SignUpForm


@sensitive_post_parameters("password1", "password2")
def signup(request):
    """Sign-up for insured persons: the account and the person record are created together or not at all."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = form.save()
        except IntegrityError:
            return render(request, "registration/signup.html", {"form": form})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your account has been created. Your user name is your document number."))
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})
