from django.apps import AppConfig


class StatementConfig(AppConfig):
    """The school's public privacy statement, generated from the configuration
    the other apps enforce. It reads consent, disclosures, retention and
    breaches, so it sits to the right of all of them; nothing imports it."""

    name = "statement"
    verbose_name = "Privacyverklaring"
