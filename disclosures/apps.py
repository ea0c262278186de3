from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "disclosures"
    verbose_name = "Verstrekkingen"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from students.tabs import register_tab

        register_tab("disclosures", _("Disclosures"), "dossier_disclosures", order=40)
