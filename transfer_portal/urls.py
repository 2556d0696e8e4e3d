from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from applications.views import accounts, home, notifications, otp
from transfer_portal.health import healthz, readyz

urlpatterns = [
    path("", home.landing, name="home"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", accounts.PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/otp/", otp.second_factor, name="otp"),
    path("accounts/otp/backup-codes/", otp.backup_code_page, name="backup_codes"),
    path("accounts/otp/backup-codes/new/", otp.make_backup_codes, name="backup_codes_new"),
    path("accounts/otp/backup-codes.txt", otp.download_backup_codes, name="backup_codes_download"),
    path("accounts/otp/backup-codes/kept/", otp.backup_codes_kept, name="backup_codes_kept"),
    path("accounts/password/reset/", accounts.PortalPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/profile/", accounts.profile, name="profile"),
    path("accounts/profile/email/", accounts.change_email, name="profile_email"),
    path("accounts/profile/sessions/", accounts.end_other_sessions, name="profile_sessions"),
    path("accounts/email/<str:token>/", accounts.confirm_email, name="confirm_email"),
    path("accounts/invitation/<str:token>/", accounts.invitation, name="accept_invitation"),
    path("accounts/session/", accounts.session_status, name="session_status"),
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
