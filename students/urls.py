from django.urls import path

from students import views

urlpatterns = [
    path("leerlingen/", views.pupil_search, name="pupil_search"),
    path("leerlingen/bsn-zoeken/", views.pupil_find_by_bsn, name="pupil_find_by_bsn"),
    path("leerlingen/aanmelden/", views.application_new, name="application_new"),
    path("groepen/", views.group_list, name="group_list"),
    path("groepen/<int:group_id>/", views.group_detail, name="group_detail"),
    path("leerlingen/<int:pupil_id>/", views.dossier, name="dossier"),
    path("leerlingen/<int:pupil_id>/inhoudelijk/", views.dossier_substantive, name="dossier_substantive"),
    path("leerlingen/<int:pupil_id>/bsn/", views.dossier_bsn, name="dossier_bsn"),
    path("leerlingen/<int:pupil_id>/logboek/", views.dossier_log, name="dossier_log"),
    path("leerlingen/<int:pupil_id>/gegevens/", views.pupil_edit, name="pupil_edit"),
    path("leerlingen/<int:pupil_id>/inschrijving/", views.enrolment_edit, name="enrolment_edit"),
    path("leerlingen/<int:pupil_id>/papieren-dossier/", views.paper_dossier_edit, name="paper_dossier_edit"),
    path("leerlingen/<int:pupil_id>/ouders/nieuw/", views.guardian_edit, name="guardian_add"),
    path("leerlingen/<int:pupil_id>/ouders/<int:link_id>/", views.guardian_edit, name="guardian_edit"),
    path("leerlingen/<int:pupil_id>/documenten/nieuw/", views.document_add, name="document_add"),
    path("leerlingen/<int:pupil_id>/documenten/<int:document_id>/", views.document_download, name="document_download"),
    path("leerlingen/<int:pupil_id>/<slug:record_type>/nieuw/", views.record_edit, name="record_add"),
    path("leerlingen/<int:pupil_id>/<slug:record_type>/<int:record_id>/", views.record_edit, name="record_edit"),
]

# --- imports (BRP/DUO address updates) -----------------------------------------
from students import views_imports  # noqa: E402

urlpatterns += [
    path("leerlingen/brp-import/", views_imports.brp_import, name="brp_import"),
    path("leerlingen/brp-import/bevestigen/", views_imports.brp_import_confirm, name="brp_import_confirm"),
]
# --- grants (assignments and involvements) -------------------------------------
from students import views_grants  # noqa: E402

urlpatterns += [
    path("beheer/opdrachten/", views_grants.assignments, name="grant_assignments"),
    path(
        "beheer/opdrachten/<int:assignment_id>/beeindigen/",
        views_grants.assignment_end,
        name="grant_assignment_end",
    ),
    path("beheer/betrokkenheid/", views_grants.involvements, name="grant_involvements"),
    path(
        "beheer/betrokkenheid/<int:involvement_id>/beeindigen/",
        views_grants.involvement_end,
        name="grant_involvement_end",
    ),
]
