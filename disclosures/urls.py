from django.urls import path

from disclosures import views, views_parents

urlpatterns = [
    # The log, the forms and what was disclosed (R-DIS-1..3, R-DIS-5, R-DIS-7)
    path("verstrekkingen/", views.disclosure_list, name="disclosure_list"),
    path("verstrekkingen/nieuw/<slug:kind>/", views.disclosure_new, name="disclosure_new"),
    path("verstrekkingen/<int:disclosure_id>/", views.disclosure_detail, name="disclosure_detail"),
    path("verstrekkingen/<int:disclosure_id>/gegevens/", views.disclosure_data, name="disclosure_data"),
    # The director (U-2)
    path("verstrekkingen/te-beslissen/", views.disclosure_inbox, name="disclosure_inbox"),
    path("verstrekkingen/<int:disclosure_id>/besluit/", views.disclosure_decide, name="disclosure_decide"),
    path("verstrekkingen/<int:disclosure_id>/beoordeling/", views.disclosure_review, name="disclosure_review"),
    # The register of recipients and processors
    path("verstrekkingen/ontvangers/", views.recipient_list, name="recipient_list"),
    path("verstrekkingen/ontvangers/standaard/", views.recipient_seed, name="recipient_seed"),
    path("verstrekkingen/ontvangers/nieuw/", views.recipient_add, name="recipient_add"),
    path("verstrekkingen/ontvangers/<int:recipient_id>/", views.recipient_edit, name="recipient_edit"),
    path(
        "verstrekkingen/ontvangers/<int:recipient_id>/overeenkomst/",
        views.recipient_agreement,
        name="recipient_agreement",
    ),
    # The dossier's Verstrekkingen tab, and the disclosures made from it
    path("leerlingen/<int:pupil_id>/verstrekkingen/", views.dossier_disclosures, name="dossier_disclosures"),
    path(
        "leerlingen/<int:pupil_id>/verstrekkingen/<slug:kind>/",
        views.disclosure_pupil_new,
        name="disclosure_pupil_new",
    ),
    # The parents' portal (R-DIS-7)
    path("parents/kind/<int:pupil_id>/verstrekkingen/", views_parents.parent_disclosures, name="parent_disclosures"),
    path(
        "parents/kind/<int:pupil_id>/verstrekkingen/<int:disclosure_id>/",
        views_parents.parent_disclosure_report,
        name="parent_disclosure_report",
    ),
]
