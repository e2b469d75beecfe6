from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Event delivery"

    def ready(self) -> None:
        from delivery import signals  # noqa: F401  (kick delivery on commit)
