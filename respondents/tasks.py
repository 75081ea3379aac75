"""Celery tasks: they take ids, and running one twice does no harm (the outbox rows decide)."""

from celery import shared_task

from .outbox import outbox_deliver_many, outbox_sweep


@shared_task(ignore_result=True)
def deliver_outbox_messages_task(message_ids: list[int]) -> None:
    """Deliver a batch of outbox rows; a row no longer pending (sent, cancelled) is skipped."""
    outbox_deliver_many(message_ids)


@shared_task(ignore_result=True)
def outbox_sweep_task() -> None:
    """Enqueue rows whose retry is due, or that the broker never got."""
    outbox_sweep()


@shared_task(ignore_result=True)
def reminders_scan_task() -> None:
    """Queue every due reminder of every open questionnaire (beat runs it every 15 minutes)."""
    from .reminders import reminders_scan_all

    reminders_scan_all()


@shared_task(ignore_result=True)
def build_export_file_task(export_id: int) -> None:
    """Build a requested Excel or SPSS file (skipped if it is no longer pending)."""
    from .exports import export_file_build

    export_file_build(export_id)


@shared_task(ignore_result=True)
def refresh_dashboard_task(questionnaire_id: int, language: str) -> None:
    """Compute a questionnaire's dashboard figures into the snapshot its watchers read."""
    from questionnaires.models import Questionnaire

    from .dashboard import dashboard_refresh

    questionnaire = Questionnaire.objects.filter(pk=questionnaire_id).first()
    if questionnaire is not None:
        dashboard_refresh(questionnaire, language)
