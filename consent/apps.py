from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Toestemming"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from students.tabs import register_tab

        register_tab("consent", _("Consent"), "dossier_consent", order=30)
