from django.contrib import admin
from django.contrib.auth import views as django_auth_views
from django.urls import include, path

from privacy_admin.views import account, auth, portal

urlpatterns = [
    path("", portal.home, name="home"),
    path("healthz", portal.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Login and second factor
    path("accounts/login/", auth.login_view, name="login"),
    path("accounts/logout/", auth.logout_view, name="logout"),
    path("accounts/verify/", auth.otp_verify, name="otp_verify"),
    path("accounts/setup/", auth.otp_setup, name="otp_setup"),
    path("accounts/lock/", auth.lock_view, name="lock"),
    path("accounts/confirm/", auth.step_up, name="step_up"),
    path("accounts/password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        django_auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        django_auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("accounts/password/change/", auth.PasswordChangeView.as_view(), name="password_change"),
    # Own account
    path("accounts/security/", account.account_security, name="account_security"),
    path("accounts/security/sessions/<str:ref>/end/", account.session_end, name="session_end"),
    path("accounts/security/sessions/end-others/", account.sessions_end_others, name="sessions_end_others"),
    path("accounts/security/backup-codes/", account.backup_codes_new, name="backup_codes_new"),
    path("accounts/security/authenticator/replace/", account.second_factor_replace, name="second_factor_replace"),
    # Application admin
    path("beheer/medewerkers/", portal.staff_list, name="staff_list"),
    path("beheer/medewerkers/nieuw/", portal.staff_invite, name="staff_invite"),
    path("beheer/medewerkers/<int:user_id>/", portal.staff_detail, name="staff_detail"),
    path(
        "beheer/medewerkers/<int:user_id>/rollen/<int:membership_id>/intrekken/",
        portal.staff_role_revoke,
        name="staff_role_revoke",
    ),
    path("beheer/medewerkers/<int:user_id>/actief/", portal.staff_set_active, name="staff_set_active"),
    path(
        "beheer/medewerkers/<int:user_id>/tweestaps-reset/",
        portal.staff_second_factor_reset,
        name="staff_second_factor_reset",
    ),
    path("beheer/rollen/", portal.role_matrix, name="role_matrix"),
    path("beheer/taken/", portal.job_runs, name="job_runs"),
    path("beheer/audit/", portal.audit_log, name="audit_log"),
    path("", include("students.urls")),
    path("", include("consent.urls")),
    path("", include("breaches.urls")),
    path("", include("retention.urls")),
    path("", include("disclosures.urls")),
    path("", include("disclosures.urls_reports")),
    path("", include("statement.urls")),
    path("", include("disclosures.rights.urls")),
    # Django's admin, for the technical administrator; behind the same gate.
    path("admin/", admin.site.urls),
]

handler400 = "privacy_admin.views.errors.bad_request"
handler403 = "privacy_admin.views.errors.permission_denied"
handler404 = "privacy_admin.views.errors.page_not_found"
handler500 = "privacy_admin.views.errors.server_error"
