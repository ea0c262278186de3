from django.urls import path

from breaches import views

urlpatterns = [
    path("datalekken/melden/", views.breach_report, name="breach_report"),
    path("datalekken/mijn-meldingen/", views.breach_mine, name="breach_mine"),
    path("datalekken/", views.breach_register, name="breach_register"),
    path("datalekken/export.csv", views.breach_export, name="breach_export"),
    path("datalekken/<int:breach_id>/", views.breach_detail, name="breach_detail"),
    path("datalekken/<int:breach_id>/ap-formulier/", views.breach_ap_form, name="breach_ap_form"),
    path("datalekken/<int:breach_id>/brief-ouders/", views.breach_letter, name="breach_letter"),
    path("datalekken/<int:breach_id>/<slug:step>/", views.breach_step, name="breach_step"),
]
