from django.apps import AppConfig


class RespondentsConfig(AppConfig):
    name = "respondents"
    verbose_name = "Respondents"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the email provider's event receiver
