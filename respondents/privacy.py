"""Retention: once a consultation is closed, the names, addresses and organisations of everyone it
invited are removed everywhere they live, for good. The pseudonymous chain (R-0012 recruited
R-0040), the answers and the counts stay, so dashboards, results and pseudonymous exports still work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from consultation.audit import audit_record
from consultation.models import AuditEntry
from questionnaires.models import Questionnaire

from .models import ExportFile, Invitation, OutboxMessage

# Audit entries whose detail may quote an address (a mail server's reply names the mailbox).
AUDIT_ACTIONS_WITH_ADDRESSES = (AuditEntry.Action.INVITATION_BOUNCED,)


# What an outbox row keeps of a person once their data goes: nothing but its kind, status and times.
BLANK_MESSAGE = {
    "to_email": "",
    "subject": "",
    "body_text": "",
    "body_html": "",
    "last_error": "",
    "headers": {},
}


@dataclass(frozen=True)
class PurgeReport:
    invitations: int  # with a name, address, organisation, role or mail-server reply
    messages: int  # outbox rows with a recipient or a body
    audit_entries: int  # whose detail may quote an address
    export_files: int  # spreadsheets and .sav files that hold names and addresses

    @property
    def total(self) -> int:
        return self.invitations + self.messages + self.audit_entries + self.export_files

    def lines(self) -> list[str]:
        return [
            f"{self.invitations} invitation(s): names, addresses, organisations, roles, mail-server replies",
            f"{self.messages} email(s) in the outbox: recipients, subjects, bodies, errors",
            f"{self.audit_entries} audit-log entr(y/ies): details that may quote an address",
            f"{self.export_files} export file(s) with names and addresses: deleted",
        ]


def _targets(questionnaire: Questionnaire):
    invitations = Invitation.objects.filter(questionnaire=questionnaire).filter(
        ~Q(email="") | ~Q(name="") | ~Q(organisation="") | ~Q(role="") | ~Q(email_failure="")
    )
    messages = OutboxMessage.objects.filter(questionnaire=questionnaire).filter(
        ~Q(to_email="") | ~Q(subject="") | ~Q(body_text="") | ~Q(body_html="") | ~Q(last_error="")
    )
    audit = AuditEntry.objects.filter(
        questionnaire=questionnaire, action__in=AUDIT_ACTIONS_WITH_ADDRESSES
    ).exclude(detail={"purged": True})
    files = ExportFile.objects.filter(questionnaire=questionnaire, options__personal_data=True)
    return invitations, messages, audit, files


def personal_data_report(questionnaire: Questionnaire) -> PurgeReport:
    """What a purge would remove now (the dry run)."""
    invitations, messages, audit, files = _targets(questionnaire)
    return PurgeReport(invitations.count(), messages.count(), audit.count(), files.count())


def purge_refusal(questionnaire: Questionnaire) -> str:
    """Why the questionnaire's personal data cannot be purged now, or "" if it can."""
    if questionnaire.status != Questionnaire.Status.CLOSED:
        return (
            f"The questionnaire is {questionnaire.status}: close it first. Personal data is purged only "
            "when no one is answering or being invited any more."
        )
    return ""


@transaction.atomic
def personal_data_purge(*, questionnaire: Questionnaire, actor) -> PurgeReport:
    """Remove every invitee's personal data from a closed questionnaire. Cannot be undone; running
    it again removes whatever has appeared since (nothing, as a closed questionnaire invites no one)."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    refusal = purge_refusal(questionnaire)
    if refusal:
        raise ValidationError(refusal)
    invitations, messages, audit, files = _targets(questionnaire)
    report = personal_data_report(questionnaire)
    invitations.update(email="", email_normalised="", name="", organisation="", role="", email_failure="")
    OutboxMessage.objects.filter(questionnaire=questionnaire, status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.CANCELLED
    )
    messages.update(**BLANK_MESSAGE)
    audit.redact_details()
    _export_files_delete(files)
    questionnaire.personal_data_purged_at = timezone.now()
    questionnaire.save(update_fields=["personal_data_purged_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.PERSONAL_DATA_PURGED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail=asdict(report),
    )
    return report


def _export_files_delete(files) -> None:
    """The rows go with the transaction; the stored files after it, so a rollback leaves them."""
    for export in files:
        name = export.file.name
        transaction.on_commit(
            lambda export=export, name=name: export.file.storage.delete(name) if name else None
        )
    files.delete()


@transaction.atomic
def respondent_erase(*, invitation: Invitation, actor) -> Invitation:
    """Erase one respondent on request: their answers (and the themes coded in them) and their
    contact details go; the invitation stays as an anonymous node of the chain (R-0012 recruited
    R-0040), counted as invited but no longer as consented, started or completed. Final."""
    from .models import InvitationEvent, Response
    from .services import _cancel_pending, _locked_invitation

    invitation = _locked_invitation(invitation)
    if invitation.status == Invitation.Status.ERASED:
        return invitation
    Response.objects.filter(invitation=invitation).delete()  # answers, selections and theme tags with it
    # Their nominees' invitations may name them: no longer, and stored copies of those emails go
    # (one still waiting is written again without the name when it is sent).
    nominees = Invitation.objects.filter(nominated_by=invitation)
    nominees.update(nominator_may_be_named=False)
    OutboxMessage.objects.filter(invitation__in=nominees).update(subject="", body_text="", body_html="")
    # Export files made before may hold their answers or name: they go (after commit); export again.
    _export_files_delete(ExportFile.objects.filter(questionnaire=invitation.questionnaire))
    _cancel_pending(invitation, "")
    OutboxMessage.objects.filter(invitation=invitation).update(**BLANK_MESSAGE)
    AuditEntry.objects.filter(
        action__in=AUDIT_ACTIONS_WITH_ADDRESSES,
        target_type=Invitation._meta.label,
        target_id=str(invitation.pk),
    ).redact_details()
    invitation.email = invitation.email_normalised = invitation.name = ""
    invitation.organisation = invitation.role = invitation.email_failure = ""
    invitation.consented_at = invitation.consent_version = invitation.started_at = invitation.completed_at = (
        None
    )
    invitation.status, invitation.erased_at = Invitation.Status.ERASED, timezone.now()
    invitation.save()
    InvitationEvent.objects.create(invitation=invitation, kind=InvitationEvent.Kind.ERASED)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.RESPONDENT_ERASED,
        target=invitation,
        questionnaire=invitation.questionnaire,
    )
    return invitation
