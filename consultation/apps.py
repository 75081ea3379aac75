from django.apps import AppConfig


class ConsultationConfig(AppConfig):
    name = "consultation"
    verbose_name = "Consultation platform"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .middleware import session_seen_at_login

        # A login writes the session anyway: the idle clock starts there, not on the next page.
        user_logged_in.connect(session_seen_at_login, dispatch_uid="consultation.session_seen_at_login")
