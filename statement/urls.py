from django.urls import path

from statement import views

urlpatterns = [
    # Public, without login: /privacy/ is on the staff gate's public prefixes
    # (privacy_admin/middleware.py), so nothing else may live under it.
    path("privacy/<str:brin>/", views.statement_public, name="statement_public"),
    path("privacy/<str:brin>/pdf/", views.statement_pdf, name="statement_pdf"),
    path("privacy/<str:brin>/versies/", views.statement_versions, name="statement_versions"),
    path("privacy/<str:brin>/v<int:number>/", views.statement_version, name="statement_version"),
    path("privacy/<str:brin>/v<int:number>/pdf/", views.statement_version_pdf, name="statement_version_pdf"),
    # Staff: behind the gate like every other staff page.
    path("beheer/privacyverklaring/", views.statement_admin, name="statement_admin"),
    path(
        "beheer/privacyverklaring/<int:school_id>/teksten/",
        views.statement_text_edit,
        name="statement_text_edit",
    ),
    path("beheer/privacyverklaring/<int:school_id>/versies/", views.statement_diff, name="statement_diff"),
]
