from django.urls import path

from retention import views

urlpatterns = [
    # The application admin's retention screen (U-3)
    path("beheer/bewaartermijnen/", views.retention_overview, name="retention_overview"),
    path(
        "beheer/bewaartermijnen/scholen/<int:school_id>/categorie/<slug:category>/",
        views.retention_due_pupils,
        name="retention_due_pupils",
    ),
    path(
        "beheer/bewaartermijnen/scholen/<int:school_id>/verwijderen/",
        views.retention_confirm,
        name="retention_confirm",
    ),
    path("beheer/bewaartermijnen/scholen/<int:school_id>/nachtelijk/", views.retention_mode, name="retention_mode"),
    path("beheer/bewaartermijnen/regels/<int:rule_id>/", views.retention_rule_edit, name="retention_rule_edit"),
    # Purge runs: progress, result, deletion records and certificate
    path("beheer/bewaartermijnen/rondes/", views.retention_runs, name="retention_runs"),
    path("beheer/bewaartermijnen/rondes/<int:run_id>/", views.retention_result, name="retention_result"),
    path(
        "beheer/bewaartermijnen/rondes/<int:run_id>/voortgang/",
        views.retention_progress,
        name="retention_progress",
    ),
    path(
        "beheer/bewaartermijnen/rondes/<int:run_id>/voortgang.json",
        views.retention_progress_status,
        name="retention_progress_status",
    ),
    path(
        "beheer/bewaartermijnen/rondes/<int:run_id>/verklaring.pdf",
        views.retention_certificate,
        name="retention_certificate",
    ),
    # Legal holds (R-RET-6): the director and the FG
    path("bewaring/blokkades/", views.legal_hold_list, name="legal_hold_list"),
    path("bewaring/blokkades/nieuw/", views.legal_hold_new, name="legal_hold_new"),
    path("bewaring/blokkades/<int:hold_id>/", views.legal_hold_detail, name="legal_hold_detail"),
    path("bewaring/blokkades/<int:hold_id>/opheffen/", views.legal_hold_lift, name="legal_hold_lift"),
]
