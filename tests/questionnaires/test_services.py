from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consultation.models import AuditEntry
from questionnaires.models import ConsentVersion, Membership, Questionnaire
from questionnaires.services import (
    membership_remove,
    membership_set,
    questionnaire_definition_changed,
    questionnaire_import,
    questionnaire_set_consent_text,
    questionnaire_set_schedule,
    questionnaire_set_status,
)
from tests.conftest import EVERY_TYPE
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(username="owner")


@pytest.fixture
def imported(owner):
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=owner)
    now = timezone.now()
    return questionnaire_set_schedule(
        questionnaire=questionnaire,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        time_zone="Europe/Paris",
        actor=owner,
    )


def test_the_importer_becomes_owner_and_that_is_audited(imported, owner):
    membership = Membership.objects.get(questionnaire=imported, user=owner)
    assert membership.role == Membership.Role.OWNER
    actions = list(
        AuditEntry.objects.filter(questionnaire=imported).order_by("id").values_list("action", flat=True)
    )
    assert actions[:2] == [
        AuditEntry.Action.MEMBER_ADDED,
        AuditEntry.Action.QUESTIONNAIRE_IMPORTED,
    ] or actions[:2] == [AuditEntry.Action.QUESTIONNAIRE_IMPORTED, AuditEntry.Action.MEMBER_ADDED]


def test_status_goes_draft_open_closed_open_and_each_change_is_audited(imported, owner):
    questionnaire_set_status(questionnaire=imported, status="open", actor=owner)
    questionnaire_set_status(questionnaire=imported, status="closed", actor=owner)
    questionnaire_set_status(questionnaire=imported, status="open", actor=owner)
    imported.refresh_from_db()
    assert imported.status == "open" and imported.is_locked
    changes = AuditEntry.objects.filter(action=AuditEntry.Action.QUESTIONNAIRE_STATUS_CHANGED).order_by("id")
    assert [(e.detail["from"], e.detail["to"]) for e in changes] == [
        ("draft", "open"),
        ("open", "closed"),
        ("closed", "open"),
    ]
    assert all(e.actor == owner and e.actor_label == "owner" for e in changes)


def test_an_open_questionnaire_cannot_go_back_to_draft(imported, owner):
    questionnaire_set_status(questionnaire=imported, status="open", actor=owner)
    with pytest.raises(ValidationError, match="cannot become draft"):
        questionnaire_set_status(questionnaire=imported, status="draft", actor=owner)
    imported.refresh_from_db()
    assert imported.status == "open"


def test_opening_is_refused_while_a_translation_is_missing(imported, owner):
    imported.questions.filter(code="D1_Q3").update(text={"en": "Only English"})
    questionnaire_definition_changed(questionnaire=imported)
    with pytest.raises(ValidationError, match=r"text\.fr: missing translation"):
        questionnaire_set_status(questionnaire=imported, status="open", actor=owner)
    imported.refresh_from_db()
    assert imported.status == "draft"
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.QUESTIONNAIRE_STATUS_CHANGED).exists()


def test_reopening_after_the_closing_date_needs_an_extension(imported, owner):
    questionnaire_set_status(questionnaire=imported, status="open", actor=owner)
    questionnaire_set_status(questionnaire=imported, status="closed", actor=owner)
    Questionnaire.objects.filter(pk=imported.pk).update(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now() - timedelta(days=1)
    )
    with pytest.raises(ValidationError, match="extend it first"):
        questionnaire_set_status(questionnaire=imported, status="open", actor=owner)
    questionnaire_set_schedule(
        questionnaire=imported,
        opens_at=imported.opens_at,
        closes_at=timezone.now() + timedelta(days=7),
        time_zone="UTC",
        actor=owner,
    )
    assert questionnaire_set_status(questionnaire=imported, status="open", actor=owner).status == "open"


def test_a_schedule_closing_before_it_opens_is_refused(imported, owner):
    now = timezone.now()
    with pytest.raises(ValidationError, match="closing date must come after"):
        questionnaire_set_schedule(
            questionnaire=imported,
            opens_at=now,
            closes_at=now - timedelta(hours=1),
            time_zone="UTC",
            actor=owner,
        )
    with pytest.raises(ValidationError, match="time zone"):
        questionnaire_set_schedule(
            questionnaire=imported, opens_at=None, closes_at=None, time_zone="Nowhere/City", actor=owner
        )


def test_a_new_consent_text_gets_a_new_version_and_keeps_the_old(imported, owner):
    questionnaire_set_consent_text(questionnaire=imported, text={"en": "New", "fr": "Nouveau"}, actor=owner)
    imported.refresh_from_db()
    assert imported.consent_version == 3
    assert list(ConsentVersion.objects.filter(questionnaire=imported).values_list("version", "text")) == [
        (2, {"en": "I agree.", "fr": "J'accepte."}),
        (3, {"en": "New", "fr": "Nouveau"}),
    ]
    questionnaire_set_consent_text(questionnaire=imported, text={"en": "New", "fr": "Nouveau"}, actor=owner)
    imported.refresh_from_db()
    assert imported.consent_version == 3  # the same text is not a new version


def test_membership_changes_are_audited_and_one_owner_remains(imported, owner):
    colleague = UserFactory(username="colleague")
    membership = membership_set(questionnaire=imported, user=colleague, role="researcher", actor=owner)
    membership_set(questionnaire=imported, user=colleague, role="monitor", actor=owner)
    with pytest.raises(ValidationError, match="pseudonymous"):
        membership_set(
            questionnaire=imported, user=colleague, role="monitor", can_view_personal_data=True, actor=owner
        )
    own = Membership.objects.get(questionnaire=imported, user=owner)
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_remove(membership=own, actor=owner)
    with pytest.raises(ValidationError, match="at least one owner"):
        membership_set(questionnaire=imported, user=owner, role="researcher", actor=owner)
    membership_remove(membership=membership, actor=owner)
    actions = list(
        AuditEntry.objects.filter(questionnaire=imported, target_type="questionnaires.Membership")
        .order_by("id")
        .values_list("action", "detail__user")
    )
    assert actions[-3:] == [
        ("membership.added", "colleague"),
        ("membership.changed", "colleague"),
        ("membership.removed", "colleague"),
    ]
    assert Membership.objects.filter(questionnaire=imported).count() == 1


def test_revision_bumps_on_definition_change(imported):
    before = imported.revision
    questionnaire_definition_changed(questionnaire=imported)
    assert imported.revision == before + 1


def test_membership_factory_roles_are_constrained():
    with pytest.raises(Exception):  # noqa: B017 - the database refuses an unknown role
        MembershipFactory(role="emperor")
