from django.urls import path

from disclosures import views_reports

urlpatterns = [
    path("verstrekkingen/nco/", views_reports.nco_export, name="nco_export"),
    path("verstrekkingen/leerplicht/", views_reports.leerplicht_list, name="leerplicht_list"),
    path("verstrekkingen/leerplicht/<int:pupil_id>/", views_reports.leerplicht_report, name="leerplicht_report"),
    path("verwerkingsregister/", views_reports.processing_register, name="processing_register"),
]
