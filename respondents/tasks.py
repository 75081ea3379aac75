from celery import shared_task

from .outbox import outbox_deliver


@shared_task(ignore_result=True)
def deliver_outbox_message_task(message_id: int) -> None:
    """Takes the row's id; skips a row already sent, so a redelivered task does no harm."""
    outbox_deliver(message_id=message_id)
