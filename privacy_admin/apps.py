from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "privacy_admin"
    label = "privacy_admin"
    verbose_name = "Privacy Admin"
