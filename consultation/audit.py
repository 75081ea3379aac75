"""Writing to the audit log. Call inside the transaction that makes the change, so both land or neither."""

from __future__ import annotations

from typing import Any

from django.db import models

from .middleware import current_client_address
from .models import AuditEntry


def audit_record(
    *,
    actor,
    action: AuditEntry.Action | str,
    target: models.Model,
    questionnaire=None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if authenticated else None,
        actor_label=actor.get_username() if authenticated else "system",
        action=action,
        questionnaire=questionnaire,
        target_type=target._meta.label,
        target_id=str(target.pk or ""),
        target_label=str(target)[:200],
        detail=detail or {},
        client_address=current_client_address(),
    )
