"""The embedded default's email backend: one .eml file per message, ready to open in a mail client."""

import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

_counter_lock = threading.Lock()
_counter = 0


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", text)[:60]


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *, file_path: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        global _counter
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _counter_lock:
                _counter += 1
                sequence = _counter
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            recipient = _safe(message.recipients()[0]) if message.recipients() else "nobody"
            path = self.directory / f"{stamp}-{sequence:04d}-{recipient}.eml"
            temporary = path.with_suffix(".part")
            temporary.write_bytes(message.message().as_bytes(linesep="\r\n"))
            temporary.rename(path)  # a reader never sees half a message
            sent += 1
        return sent
