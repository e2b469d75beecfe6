from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "SIEM integrations"

    def ready(self) -> None:
        from integrations import signals  # noqa: F401  (audit + login receivers)
