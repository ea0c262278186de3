from django.apps import AppConfig


class StatementConfig(AppConfig):
    """The school's public privacy statement, generated from the configuration
    the other apps enforce. It reads consent, disclosures, retention and
    breaches, so it sits to the right of all of them; nothing imports it."""

    name = "statement"
    verbose_name = "Privacyverklaring"

    def ready(self):
        # Consent records under which version a parent answered, without
        # importing this app (privacy_admin/published.py).
        from privacy_admin.published import register_statement_version_provider
        from statement.services import current_version_number

        register_statement_version_provider(current_version_number)
