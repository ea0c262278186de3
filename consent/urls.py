from django.urls import path  # noqa: F401

urlpatterns = []

# --- staff: consent tab, group matrix, categories (consent/views_staff.py) ----------
from consent import views_staff  # noqa: E402

urlpatterns += [
    path("leerlingen/<int:pupil_id>/toestemming/", views_staff.dossier_consent, name="dossier_consent"),
    path(
        "leerlingen/<int:pupil_id>/toestemming/invoeren/",
        views_staff.dossier_consent_entry,
        name="dossier_consent_entry",
    ),
    path("groepen/<int:group_id>/toestemming/", views_staff.consent_matrix, name="consent_matrix"),
    path("beheer/toestemming/", views_staff.consent_categories, name="consent_categories"),
    path(
        "beheer/toestemming/scholen/<int:school_id>/nieuw/",
        views_staff.consent_category_add,
        name="consent_category_add",
    ),
    path(
        "beheer/toestemming/scholen/<int:school_id>/herinnering/",
        views_staff.consent_reminder_date,
        name="consent_reminder_date",
    ),
    path(
        "beheer/toestemming/categorieen/<int:category_id>/",
        views_staff.consent_category_edit,
        name="consent_category_edit",
    ),
]
# --- parents' portal (consent/views_parents.py) ---------------------------------------
from consent import views_parents  # noqa: E402

urlpatterns += [
    path("parents/", views_parents.parent_home, name="parent_home"),
    path("parents/inloggen/", views_parents.parent_login, name="parent_login"),
    path("parents/inloggen/code/", views_parents.parent_login_code, name="parent_login_code"),
    path("parents/uitloggen/", views_parents.parent_logout, name="parent_logout"),
    path("parents/kind/<int:pupil_id>/voorkeuren/", views_parents.parent_preferences, name="parent_preferences"),
    # Staff side, behind the staff gate: from the dossier's consent tab.
    path(
        "leerlingen/<int:pupil_id>/toestemming/ouders/<int:link_id>/uitnodigen/",
        views_parents.parent_invite,
        name="parent_invite",
    ),
]
# --- publications (consent/views_publications.py) -------------------------------------
from consent import views_publications  # noqa: E402

urlpatterns += [
    path("publicaties/", views_publications.publication_list, name="publication_list"),
    path("publicaties/nieuw/", views_publications.publication_new, name="publication_new"),
    path("publicaties/<int:publication_id>/", views_publications.publication_detail, name="publication_detail"),
    path("publicaties/<int:publication_id>/wijzigen/", views_publications.publication_edit, name="publication_edit"),
    path(
        "publicaties/<int:publication_id>/leerlingen/<int:appearance_id>/toestemming/",
        views_publications.publication_one_off,
        name="publication_one_off",
    ),
    path(
        "publicaties/<int:publication_id>/publiceren/",
        views_publications.publication_publish,
        name="publication_publish",
    ),
    path(
        "publicaties/<int:publication_id>/offline/",
        views_publications.publication_take_down,
        name="publication_take_down",
    ),
]
