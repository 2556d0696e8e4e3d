from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from applications.views import accounts, home, notifications, otp
from transfer_portal.health import healthz, readyz

urlpatterns = [
    path("", home.landing, name="home"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/otp/", otp.second_factor, name="otp"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/setlang/", notifications.switch_language, name="set_language"),
    path("", include("applications.urls")),
    path("employer/", include("applications.urls_employer")),
    path("agency/", include("desk.urls")),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.mark_all_read, name="notifications_read"),
    path("admin/", admin.site.urls),
    # Named here for reverse(); ProbeMiddleware answers both before the other middleware.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

# The portal's own error pages, in the user's language (transfer_portal/errors.py).
handler400 = "transfer_portal.errors.bad_request"
handler403 = "transfer_portal.errors.permission_denied"
handler404 = "transfer_portal.errors.page_not_found"
handler500 = "transfer_portal.errors.server_error"
