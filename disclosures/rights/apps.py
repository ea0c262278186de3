from django.apps import AppConfig


class RightsConfig(AppConfig):
    """Parents' requests to view, correct or remove data (R-RGT-1..4). Part of
    the disclosures layer (STYLE.md), with its own label and migrations."""

    name = "disclosures.rights"
    label = "rights"
    verbose_name = "Verzoeken van ouders"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from students.tabs import register_tab

        register_tab("requests", _("Parents' requests"), "dossier_requests", order=50)
