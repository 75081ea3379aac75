"""The audit log: who did what to which object, and when. Append-only through the application."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyError(RuntimeError):
    pass


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")

    def redact_details(self) -> int:
        """The one change the log allows: the retention purge (respondents/privacy.py) blanks the
        details that may quote an invitee's address; who did what, and when, stay."""
        return super().update(detail={"purged": True})


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        QUESTIONNAIRE_IMPORTED = "questionnaire.imported", "Questionnaire imported"
        QUESTIONNAIRE_EXPORTED = "questionnaire.exported", "Questionnaire definition exported"
        QUESTIONNAIRE_STATUS_CHANGED = "questionnaire.status_changed", "Questionnaire status changed"
        QUESTIONNAIRE_EDITED = "questionnaire.edited", "Questionnaire edited"
        QUESTIONNAIRE_CREATED = "questionnaire.created", "Questionnaire created"
        QUESTIONNAIRE_COPIED = "questionnaire.copied", "Questionnaire duplicated as a new draft"
        MEMBER_ADDED = "membership.added", "Member added"
        MEMBER_CHANGED = "membership.changed", "Member's role changed"
        MEMBER_REMOVED = "membership.removed", "Member removed"
        INVITATION_CREATED = "invitation.created", "Invitations created"
        PERSONAL_DATA_VIEWED = "personal_data.viewed", "Names and emails viewed"
        INVITATION_RESENT = "invitation.resent", "Invitation re-sent"
        INVITATION_ADDRESS_CORRECTED = "invitation.address_corrected", "Invitation address corrected"
        INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
        INVITATION_BOUNCED = "invitation.bounced", "Address marked as bouncing"
        REMINDERS_SENT = "reminders.sent", "Reminders sent now"
        RESPONSES_EXPORTED = "responses.exported", "Responses exported"
        ANSWERS_CODED = "answers.coded", "Open answers coded"
        PERSONAL_DATA_PURGED = "personal_data.purged", "Names and emails purged"
        RESPONDENT_ERASED = "respondent.erased", "A respondent's answers and contact details erased"
        TWO_FACTOR_SET_UP = "two_factor.set_up", "Two-factor authentication set up"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text too, so an entry still says who acted after the account is deleted.
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=60, choices=Action.choices)
    questionnaire = models.ForeignKey(
        "questionnaires.Questionnaire", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    client_address = models.CharField(max_length=64, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["questionnaire", "-created_at"], name="audit_by_questionnaire")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries cannot be deleted.")
