from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from applications.views import accounts, home
from transfer_portal.health import healthz

urlpatterns = [
    path("", home.landing, name="home"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("applications.urls")),
    path("agency/", include("agencies.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
