from django.apps import AppConfig


class RightsConfig(AppConfig):
    """Parents' requests to view, correct or remove data (R-RGT-1..4). Part of
    the disclosures layer (STYLE.md), with its own label and migrations."""

    name = "disclosures.rights"
    label = "rights"
    verbose_name = "Verzoeken van ouders"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from disclosures.rights.policy import REQUESTS_TAB, may_open_dossier_requests
        from students.tabs import register_tab

        # Shown only where its view opens (the view asks the same).
        register_tab(
            REQUESTS_TAB, _("Parents' requests"), "dossier_requests", order=50, visible=may_open_dossier_requests
        )
