import pytest

from consultation.audit import audit_record
from consultation.models import AppendOnlyError, AuditEntry
from tests.factories import QuestionnaireFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_entry_names_who_did_what_to_which_object():
    user = UserFactory(username="alice")
    questionnaire = QuestionnaireFactory()
    entry = audit_record(
        actor=user,
        action=AuditEntry.Action.QUESTIONNAIRE_EDITED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"field": "title"},
    )
    assert (entry.actor, entry.actor_label, entry.target_type, entry.target_id) == (
        user,
        "alice",
        "questionnaires.Questionnaire",
        str(questionnaire.pk),
    )
    assert entry.created_at is not None


def test_the_log_is_append_only_through_the_application():
    questionnaire = QuestionnaireFactory()
    entry = audit_record(actor=None, action=AuditEntry.Action.QUESTIONNAIRE_EDITED, target=questionnaire)
    assert entry.actor_label == "system"
    entry.action = AuditEntry.Action.MEMBER_REMOVED
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == AuditEntry.Action.QUESTIONNAIRE_EDITED


def test_an_entry_outlives_its_actor_account():
    user = UserFactory(username="leaver")
    questionnaire = QuestionnaireFactory()
    entry = audit_record(actor=user, action=AuditEntry.Action.QUESTIONNAIRE_EDITED, target=questionnaire)
    user.delete()
    entry.refresh_from_db()
    assert entry.actor is None and entry.actor_label == "leaver"
