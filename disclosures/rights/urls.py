"""Parents' requests (R-RGT-1..4): the parents' side under /parents/ (their own
realm, consent.parents), the staff side under /verzoeken/ and the dossier tab."""

from django.urls import path

from disclosures.rights import views_parents, views_staff

urlpatterns = [
    # Parents' portal
    path("parents/verzoeken/", views_parents.parent_requests, name="parent_requests"),
    path("parents/verzoeken/<int:request_id>/", views_parents.parent_request_detail, name="parent_request_detail"),
    path("parents/kind/<int:pupil_id>/verzoek/", views_parents.parent_request_new, name="parent_request_new"),
    # The director (rights.handle)
    path("verzoeken/", views_staff.rights_request_list, name="rights_request_list"),
    path("verzoeken/mijn-inzages/", views_staff.rights_my_viewings, name="rights_my_viewings"),
    path("verzoeken/<int:request_id>/", views_staff.rights_request_detail, name="rights_request_detail"),
    path("verzoeken/<int:request_id>/afspraak/", views_staff.rights_request_schedule, name="rights_request_schedule"),
    path("verzoeken/<int:request_id>/verlengen/", views_staff.rights_request_extend, name="rights_request_extend"),
    path("verzoeken/<int:request_id>/weigeren/", views_staff.rights_request_refuse, name="rights_request_refuse"),
    path("verzoeken/<int:request_id>/afronden/", views_staff.rights_request_complete, name="rights_request_complete"),
    path("verzoeken/<int:request_id>/correcties/", views_staff.rights_correction_list, name="rights_correction_list"),
    path(
        "verzoeken/<int:request_id>/correcties/<slug:part>/<int:record_id>/",
        views_staff.rights_correction_edit,
        name="rights_correction_edit",
    ),
    path(
        "verzoeken/<int:request_id>/correcties/<slug:part>/<int:record_id>/verwijderen/",
        views_staff.rights_correction_remove,
        name="rights_correction_remove",
    ),
    # The viewing: the director and the staff member present
    path("verzoeken/<int:request_id>/inzage/", views_staff.rights_viewing_overview, name="rights_viewing_overview"),
    path("verzoeken/<int:request_id>/inzage/verslag/", views_staff.rights_viewing_held, name="rights_viewing_held"),
    # The dossier tab
    path("leerlingen/<int:pupil_id>/verzoeken/", views_staff.dossier_requests, name="dossier_requests"),
]
