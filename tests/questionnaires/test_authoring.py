"""The authoring service (questionnaires/authoring.py): each edit's effect on the database and the audit
log, and every refusal leaving the questionnaire exactly as it was."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from consultation.models import AuditEntry
from questionnaires.authoring import (
    LOCKED_ADVICE,
    ChoiceInput,
    DomainInput,
    LockedEdit,
    QuestionInput,
    SettingsInput,
    StaleEdit,
    TextCell,
    UnknownOrder,
    domain_delete,
    domain_fingerprint,
    domain_save,
    domains_reorder,
    move_in_order,
    question_delete,
    question_fingerprint,
    question_save,
    questionnaire_copy,
    questionnaire_create_blank,
    questionnaire_fingerprint,
    questionnaire_update_settings,
    questions_reorder,
    text_fingerprint,
    translations_save,
)
from questionnaires.definition_format import document_to_json
from questionnaires.engine.checks import definition_problems
from questionnaires.models import Choice, ConsentVersion, Domain, Membership, Question, Questionnaire
from questionnaires.selectors import instrument_rows, questionnaire_document
from questionnaires.services import (
    country_codes,
    questionnaire_import,
    questionnaire_set_schedule,
    questionnaire_set_status,
)
from tests.conftest import EVERY_TYPE
from tests.factories import UserFactory

EDITED = AuditEntry.Action.QUESTIONNAIRE_EDITED
pytestmark = pytest.mark.django_db


# --- Fixtures and helpers --------------------------------------------------------------------------


@pytest.fixture
def owner():
    return UserFactory(username="owner")


@pytest.fixture
def draft(owner):
    """every_type.json as imported: PROFILE (P_COUNTRY, P_LEVEL, P_SITE, P_PEERS, P_SCORE) then D1
    (shown when P_LEVEL is SENIOR or MIDDLE; D1_Q2 tests D1_Q1, D1_Q4 tests P_SITE, D1_Q5 tests D1_Q4)."""
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=owner)
    now = timezone.now()
    return questionnaire_set_schedule(
        questionnaire=questionnaire,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        time_zone="America/Toronto",
        actor=owner,
    )


@pytest.fixture
def opened(draft, owner):
    return questionnaire_set_status(questionnaire=draft, status="open", actor=owner)


def texts(english: str, french: str | None = None) -> dict[str, str]:
    return {"en": english, "fr": french if french is not None else f"{english} (fr)"}


def fresh(questionnaire: Questionnaire) -> Questionnaire:
    return Questionnaire.objects.get(pk=questionnaire.pk)


def domain_of(questionnaire: Questionnaire, code: str) -> Domain:
    return Domain.objects.get(questionnaire=questionnaire, code=code)


def question_of(questionnaire: Questionnaire, code: str) -> Question:
    return Question.objects.get(questionnaire=questionnaire, code=code)


def state(questionnaire: Questionnaire) -> dict[str, Any]:
    """Everything an edit could change: compared before and after a refusal."""
    questionnaire = fresh(questionnaire)
    return {
        "document": document_to_json(questionnaire_document(questionnaire)),
        "revision": questionnaire.revision,
        "consent_versions": list(questionnaire.consent_versions.values_list("version", "text")),
        "domains": list(
            Domain.objects.filter(questionnaire=questionnaire).values_list("pk", "code", "position")
        ),
        "questions": sorted(
            Question.objects.filter(questionnaire=questionnaire).values_list(
                "pk", "code", "domain_id", "position", "type"
            )
        ),
        "choices": sorted(
            Choice.objects.filter(question__questionnaire=questionnaire).values_list(
                "pk", "question_id", "kind", "code", "value", "position", "is_other"
            )
        ),
        "audit": AuditEntry.objects.filter(questionnaire=questionnaire).count(),
    }


def last_edit(questionnaire: Questionnaire) -> AuditEntry:
    return AuditEntry.objects.filter(questionnaire=questionnaire, action=EDITED).order_by("-id").first()


def problems_of(questionnaire: Questionnaire) -> list[str]:
    definition = instrument_rows(fresh(questionnaire)).definition
    return [str(problem) for problem in definition_problems(definition, countries=country_codes())]


def domain_input(domain: Domain, **changes) -> DomainInput:
    current = DomainInput(
        code=domain.code,
        title=dict(domain.title),
        description=dict(domain.description),
        condition=domain.condition,
    )
    return replace(current, **changes)


def edit_domain(
    questionnaire, domain_code: str, /, *, actor, fingerprint: str | None = None, **changes
) -> Domain:
    domain = domain_of(questionnaire, domain_code)
    return domain_save(
        questionnaire=questionnaire,
        domain=domain,
        data=domain_input(domain, **changes),
        fingerprint=domain_fingerprint(domain) if fingerprint is None else fingerprint,
        actor=actor,
    )


def add_domain(questionnaire, code: str, *, actor, **fields) -> Domain:
    data = DomainInput(code=code, title=fields.pop("title", texts(f"Domain {code}")), **fields)
    return domain_save(questionnaire=questionnaire, domain=None, data=data, fingerprint=None, actor=actor)


def question_input(question: Question, **changes) -> QuestionInput:
    current = QuestionInput(
        code=question.code,
        type=question.type,
        text=dict(question.text),
        help=dict(question.help),
        required=question.required,
        breakdown=question.breakdown,
        condition=question.condition,
        min_value=question.min_value,
        max_value=question.max_value,
        integer_only=question.integer_only,
        max_length=question.max_length,
        min_choices=question.min_choices,
        max_choices=question.max_choices,
        domain_id=question.domain_id,
    )
    return replace(current, **changes)


def choice_inputs(question: Question, kind: str) -> list[ChoiceInput]:
    """The question's choices of one kind as its form would send them back, unchanged."""
    return [
        ChoiceInput(id=c.pk, code=c.code, label=dict(c.label), value=c.value, is_other=c.is_other)
        for c in question.choices.filter(kind=kind).order_by("position", "pk")
    ]


def edit_question(
    questionnaire,
    question_code: str,
    /,
    *,
    actor,
    options: list[ChoiceInput] | None = None,
    items: list[ChoiceInput] | None = None,
    fingerprint: str | None = None,
    **changes,
) -> Question:
    """Save a question as its form would, with `changes` applied to what the form showed."""
    question = question_of(questionnaire, question_code)
    return question_save(
        questionnaire=questionnaire,
        domain=question.domain,
        question=question,
        data=question_input(question, **changes),
        options=choice_inputs(question, "option") if options is None else options,
        items=choice_inputs(question, "item") if items is None else items,
        fingerprint=question_fingerprint(question, list(question.choices.all()))
        if fingerprint is None
        else fingerprint,
        actor=actor,
    )


def add_question(
    questionnaire,
    domain_code: str,
    code: str,
    *,
    actor,
    type: str = "short_text",
    options: Sequence[ChoiceInput] = (),
    items: Sequence[ChoiceInput] = (),
    **fields,
) -> Question:
    data = QuestionInput(code=code, type=type, text=fields.pop("text", texts(f"Question {code}?")), **fields)
    return question_save(
        questionnaire=questionnaire,
        domain=domain_of(questionnaire, domain_code),
        question=None,
        data=data,
        options=list(options),
        items=list(items),
        fingerprint=None,
        actor=actor,
    )


def option(code: str, value: int, *, other: bool = False) -> ChoiceInput:
    """A new answer option, as a blank row of the form."""
    return ChoiceInput(id=None, code=code, label=texts(code.title()), value=value, is_other=other)


def choices_of(questionnaire, code: str, kind: str = "option") -> list[tuple[str, int | None]]:
    question = question_of(questionnaire, code)
    return list(question.choices.filter(kind=kind).order_by("position").values_list("code", "value"))


def codes_in_order(questionnaire) -> list[tuple[str, list[str]]]:
    rows = instrument_rows(fresh(questionnaire))
    return [(d.code, [q.code for q in rows.questions_of.get(d.pk, [])]) for d in rows.domains]


def settings_of(questionnaire: Questionnaire, **changes) -> SettingsInput:
    current = SettingsInput(
        languages=list(questionnaire.languages),
        title=dict(questionnaire.title),
        organisation=dict(questionnaire.organisation),
        introduction=dict(questionnaire.introduction),
        consent_text=dict(questionnaire.consent_text),
        opens_at=questionnaire.opens_at,
        closes_at=questionnaire.closes_at,
        time_zone=questionnaire.time_zone,
        nomination_quota=questionnaire.nomination_quota,
    )
    return replace(current, **changes)


def update_settings(questionnaire, *, actor, fingerprint: str | None = None, **changes) -> Questionnaire:
    current = fresh(questionnaire)
    return questionnaire_update_settings(
        questionnaire=current,
        changes=settings_of(current, **changes),
        fingerprint=questionnaire_fingerprint(current) if fingerprint is None else fingerprint,
        actor=actor,
    )


def cell(row, field: str, language: str = "fr") -> TextCell:
    model = {Questionnaire: "questionnaire", Domain: "domain", Question: "question", Choice: "choice"}
    return TextCell(model[type(row)], row.pk, field, language)


def shown(row, field: str, language: str = "fr") -> str:
    """The fingerprint a translation form carries for the text as it shows it."""
    return text_fingerprint((getattr(row, field) or {}).get(language, ""))


# --- questionnaire_create_blank ------------------------------------------------------------------


def test_a_blank_questionnaire_is_an_empty_draft_owned_and_audited(owner):
    questionnaire = questionnaire_create_blank(
        slug="new-study", title="New study", languages=["fr", "en"], actor=owner
    )

    questionnaire = fresh(questionnaire)
    assert questionnaire.status == Questionnaire.Status.DRAFT and not questionnaire.is_locked
    assert questionnaire.languages == ["fr", "en"]
    assert questionnaire.title == {"fr": "New study"}  # the title in the first language
    assert not questionnaire.domains.exists()
    assert list(questionnaire.consent_versions.values_list("version", "text")) == [(1, {})]
    membership = Membership.objects.get(questionnaire=questionnaire)
    assert (membership.user, membership.role) == (owner, Membership.Role.OWNER)
    created = AuditEntry.objects.get(
        questionnaire=questionnaire, action=AuditEntry.Action.QUESTIONNAIRE_CREATED
    )
    assert created.actor == owner
    assert created.detail == {"languages": ["fr", "en"]}
    assert created.target_id == str(questionnaire.pk)


def test_a_blank_questionnaire_cannot_take_a_slug_in_use(draft, owner):
    count, audit = Questionnaire.objects.count(), AuditEntry.objects.count()

    with pytest.raises(ValidationError) as refused:
        questionnaire_create_blank(slug=draft.slug, title="Again", languages=["en"], actor=owner)

    assert "already exists" in refused.value.message_dict["slug"][0]
    assert (Questionnaire.objects.count(), AuditEntry.objects.count()) == (count, audit)


# --- questionnaire_copy ----------------------------------------------------------------------------


def test_a_copy_of_an_open_questionnaire_is_a_draft_with_the_same_definition(opened, owner):
    colleague = UserFactory(username="colleague")
    before = state(opened)

    copy = questionnaire_copy(source=opened, slug="every-type-2", actor=colleague)

    copy, source = fresh(copy), fresh(opened)
    assert copy.pk != source.pk and copy.slug == "every-type-2"
    assert copy.status == Questionnaire.Status.DRAFT and not copy.is_locked
    copied = instrument_rows(copy).definition
    original = instrument_rows(source).definition
    assert replace(copied, slug="same") == replace(original, slug="same")
    assert [d.code for d in copied.domains] == ["PROFILE", "D1"]
    assert [(c.code, c.label, c.value, c.is_other) for c in copied.question("P_LEVEL").options] == [
        ("SENIOR", {"en": "Senior", "fr": "Haute direction"}, 1, False),
        ("MIDDLE", {"en": "Middle", "fr": "Cadre intermédiaire"}, 2, False),
        ("OTHER", {"en": "Other", "fr": "Autre"}, 99, True),
    ]
    assert not set(copy.questions.values_list("pk", flat=True)) & set(
        source.questions.values_list("pk", flat=True)
    )
    assert (copy.title, copy.consent_text, copy.consent_version) == (
        source.title,
        source.consent_text,
        source.consent_version,
    )
    assert copy.consent_versions.get().version == source.consent_version
    assert (copy.time_zone, copy.nomination_quota) == (source.time_zone, source.nomination_quota)
    assert copy.closes_at == source.closes_at.replace(microsecond=0)  # the file keeps whole seconds

    entry = AuditEntry.objects.get(questionnaire=copy, action=AuditEntry.Action.QUESTIONNAIRE_COPIED)
    assert entry.actor == colleague
    assert entry.detail["copied_from"] == "every-type"
    assert entry.detail["questions"] == source.questions.count()
    assert Membership.objects.get(questionnaire=copy).user == colleague
    assert state(opened) == before  # the source is untouched and still open
    assert source.status == Questionnaire.Status.OPEN


def test_a_draft_with_unfinished_parts_can_still_be_copied(draft, owner):
    add_question(draft, "PROFILE", "P_TEAM", type="single_choice", actor=owner)  # no choices yet
    unfinished = "$.domains[0].questions[5].choices: a single_choice question needs at least two choices"
    assert unfinished in problems_of(draft)

    copy = questionnaire_copy(source=draft, slug="every-type-copy", actor=owner)

    assert replace(instrument_rows(fresh(copy)).definition, slug="same") == replace(
        instrument_rows(fresh(draft)).definition, slug="same"
    )
    assert question_of(copy, "P_TEAM").choices.count() == 0
    assert problems_of(copy) == problems_of(draft)


def test_a_copy_cannot_take_a_slug_in_use(draft, opened, owner):
    other = questionnaire_create_blank(slug="taken", title="Taken", languages=["en"], actor=owner)
    count = Questionnaire.objects.count()

    with pytest.raises(ValidationError) as refused:
        questionnaire_copy(source=opened, slug=other.slug, actor=owner)

    assert "already exists" in refused.value.message_dict["slug"][0]
    assert Questionnaire.objects.count() == count


# --- domain_save -----------------------------------------------------------------------------------


def test_a_new_domain_goes_at_the_end_with_its_texts_and_is_audited(draft, owner):
    revision = fresh(draft).revision

    domain = add_domain(
        draft, "EXTRA", title={"en": "Extra", "fr": ""}, description=texts("More"), actor=owner
    )

    domain.refresh_from_db()
    assert [d.code for d in instrument_rows(fresh(draft)).domains] == ["PROFILE", "D1", "EXTRA"]
    assert domain.position == 2
    assert domain.title == {"en": "Extra"}  # an empty text is a missing translation, not stored
    assert domain.description == {"en": "More", "fr": "More (fr)"}
    assert fresh(draft).revision == revision + 1
    entry = last_edit(draft)
    assert (entry.actor, entry.target_type, entry.target_id) == (
        owner,
        "questionnaires.Domain",
        str(domain.pk),
    )
    assert entry.detail["domain"] == "EXTRA" and entry.detail["launched"] is False
    assert entry.detail["changes"]["code"] == {"before": None, "after": "EXTRA"}


def test_a_domain_title_can_be_changed_in_a_draft(draft, owner):
    edit_domain(draft, "D1", title=texts("Housing", "Logement"), actor=owner)

    assert domain_of(draft, "D1").title == {"en": "Housing", "fr": "Logement"}
    assert last_edit(draft).detail["changes"] == {
        "title": {
            "before": {"en": "Accommodation", "fr": "Hébergement"},
            "after": {"en": "Housing", "fr": "Logement"},
        }
    }


def test_a_domain_code_used_by_another_domain_is_refused(draft, owner):
    before = state(draft)

    with pytest.raises(ValidationError) as new_one:
        add_domain(draft, "D1", actor=owner)
    with pytest.raises(ValidationError) as renamed:
        edit_domain(draft, "PROFILE", code="D1", actor=owner)

    assert new_one.value.message_dict == {"code": ["Another domain of this questionnaire has the code D1."]}
    assert renamed.value.message_dict == new_one.value.message_dict
    assert state(draft) == before


def test_a_domain_condition_testing_its_own_or_a_later_question_is_refused(draft, owner):
    before = state(draft)

    with pytest.raises(ValidationError) as own:
        edit_domain(draft, "D1", condition={"question": "D1_Q3", "op": "answered"}, actor=owner)
    with pytest.raises(ValidationError) as later:
        edit_domain(draft, "PROFILE", condition={"question": "D1_Q1", "op": "answered"}, actor=owner)

    assert "D1_Q3 does not come before this point" in own.value.message_dict["condition"][0]
    assert "D1_Q1 does not come before this point" in later.value.message_dict["condition"][0]
    assert state(draft) == before


def test_no_domain_can_be_added_to_an_open_questionnaire(opened, owner):
    before = state(opened)

    with pytest.raises(LockedEdit) as refused:
        add_domain(opened, "EXTRA", actor=owner)

    assert refused.value.messages == [
        "Domains cannot be added after launch: the questionnaire is open and stored answers depend on it. "
        + LOCKED_ADVICE
    ]
    assert state(opened) == before


def test_an_open_questionnaires_domain_keeps_its_code(opened, owner):
    before = state(opened)

    with pytest.raises(LockedEdit, match="A domain's code cannot change after launch"):
        edit_domain(opened, "D1", code="HOUSING", actor=owner)

    assert state(opened) == before


def test_an_open_questionnaires_domain_title_can_change_and_the_audit_shows_before_and_after(opened, owner):
    revision = fresh(opened).revision

    edit_domain(opened, "D1", title=texts("Housing", "Logement"), actor=owner)

    assert domain_of(opened, "D1").title == {"en": "Housing", "fr": "Logement"}
    assert fresh(opened).revision == revision + 1
    entry = last_edit(opened)
    assert entry.detail == {
        "launched": True,
        "domain": "D1",
        "changes": {
            "title": {
                "before": {"en": "Accommodation", "fr": "Hébergement"},
                "after": {"en": "Housing", "fr": "Logement"},
            }
        },
    }


def test_an_open_questionnaires_domain_keeps_its_title_in_every_language(opened, owner):
    before = state(opened)

    with pytest.raises(ValidationError) as refused:
        edit_domain(opened, "D1", title={"en": "Housing", "fr": ""}, actor=owner)

    assert not isinstance(refused.value, LockedEdit)
    assert "$.domains[1].title.fr: missing translation (fr)" in refused.value.messages
    assert state(opened) == before


def test_a_domain_edit_made_on_a_stale_page_is_refused_and_writes_nothing(draft, owner):
    opened_on = domain_fingerprint(domain_of(draft, "D1"))
    edit_domain(draft, "D1", description=texts("A colleague's words"), actor=owner)  # meanwhile
    before = state(draft)

    with pytest.raises(StaleEdit) as refused:
        edit_domain(draft, "D1", title=texts("Mine"), fingerprint=opened_on, actor=owner)

    assert refused.value.messages[0].startswith("Domain D1 was changed elsewhere")
    assert "your edit was not saved" in refused.value.messages[0]
    assert state(draft) == before
    assert domain_of(draft, "D1").description == texts("A colleague's words")


# --- domain_delete ---------------------------------------------------------------------------------


def test_a_draft_domain_is_deleted_with_its_questions(draft, owner):
    domain = add_domain(draft, "EXTRA", actor=owner)
    add_question(draft, "EXTRA", "X_Q1", actor=owner)

    domain_delete(domain=domain, actor=owner)

    assert not Domain.objects.filter(pk=domain.pk).exists()
    assert not Question.objects.filter(questionnaire=draft, code="X_Q1").exists()
    assert last_edit(draft).detail == {"launched": False, "deleted_domain": "EXTRA", "questions": ["X_Q1"]}


def test_a_domain_whose_questions_conditions_use_cannot_be_deleted(draft, owner):
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        domain_delete(domain=domain_of(draft, "PROFILE"), actor=owner)

    assert refused.value.messages == [
        "The conditions of D1_Q4, domain D1 use domain PROFILE: change them first, then delete it. "
        "Nothing was deleted."
    ]
    assert state(draft) == before


def test_an_open_questionnaires_domain_cannot_be_deleted(opened, owner):
    before = state(opened)

    with pytest.raises(LockedEdit, match="Domain D1 cannot be deleted"):
        domain_delete(domain=domain_of(opened, "D1"), actor=owner)

    assert state(opened) == before


# --- question_save: creating and editing -----------------------------------------------------------


def test_a_single_choice_question_is_created_with_its_options_in_one_call(draft, owner):
    revision = fresh(draft).revision

    question = add_question(
        draft,
        "PROFILE",
        "P_TEAM",
        type="single_choice",
        text=texts("Team?", "Équipe ?"),
        required=True,
        options=[option("SMALL", 1), option("LARGE", 2), option("OTHER", 99, other=True)],
        actor=owner,
    )

    question.refresh_from_db()
    assert question.position == 5 and question.domain == domain_of(draft, "PROFILE")
    assert (question.type, question.text, question.required) == (
        "single_choice",
        texts("Team?", "Équipe ?"),
        True,
    )
    rows = list(
        question.choices.order_by("position").values_list("kind", "code", "value", "is_other", "position")
    )
    assert rows == [
        ("option", "SMALL", 1, False, 0),
        ("option", "LARGE", 2, False, 1),
        ("option", "OTHER", 99, True, 2),
    ]
    assert codes_in_order(draft)[0][1][-1] == "P_TEAM"
    assert not any("P_TEAM" in problem for problem in problems_of(draft))
    assert fresh(draft).revision == revision + 1
    entry = last_edit(draft)
    assert entry.target_id == str(question.pk)
    assert entry.detail["question"] == "P_TEAM" and entry.detail["created"] is True
    assert [o["code"] for o in entry.detail["changes"]["options"]["after"]] == ["SMALL", "LARGE", "OTHER"]


def test_two_choices_can_swap_codes_and_values_in_a_draft(draft, owner):
    senior, middle, other = choice_inputs(question_of(draft, "P_LEVEL"), "option")

    edit_question(
        draft,
        "P_LEVEL",
        options=[
            replace(senior, code="MIDDLE", value=2),
            replace(middle, code="SENIOR", value=1),
            other,
        ],
        actor=owner,
    )

    assert Choice.objects.get(pk=senior.id).code == "MIDDLE" and Choice.objects.get(pk=senior.id).value == 2
    assert Choice.objects.get(pk=middle.id).code == "SENIOR" and Choice.objects.get(pk=middle.id).value == 1
    assert choices_of(draft, "P_LEVEL") == [("MIDDLE", 2), ("SENIOR", 1), ("OTHER", 99)]
    changes = last_edit(draft).detail["changes"]["options"]
    assert [o["code"] for o in changes["before"]] == ["SENIOR", "MIDDLE", "OTHER"]
    assert [o["code"] for o in changes["after"]] == ["MIDDLE", "SENIOR", "OTHER"]


def test_choices_can_be_reordered_relabelled_and_added_in_one_edit(draft, owner):
    senior, middle, other = choice_inputs(question_of(draft, "P_LEVEL"), "option")

    edit_question(
        draft,
        "P_LEVEL",
        options=[middle, replace(senior, label=texts("Top", "Sommet")), option("JUNIOR", 3), other],
        actor=owner,
    )

    assert choices_of(draft, "P_LEVEL") == [("MIDDLE", 2), ("SENIOR", 1), ("JUNIOR", 3), ("OTHER", 99)]
    assert Choice.objects.get(pk=senior.id).label == texts("Top", "Sommet")


def test_a_choice_left_out_of_a_draft_question_is_deleted(draft, owner):
    dispersal, concentration, other = choice_inputs(question_of(draft, "D1_Q1"), "option")

    edit_question(draft, "D1_Q1", options=[dispersal, other], actor=owner)

    assert not Choice.objects.filter(pk=concentration.id).exists()
    assert list(question_of(draft, "D1_Q1").choices.order_by("position").values_list("code", "position")) == [
        ("DISPERSAL", 0),
        ("OTHER", 1),
    ]


def test_a_choice_that_a_condition_tests_cannot_be_left_out(draft, owner):
    senior, _middle, other = choice_inputs(question_of(draft, "P_LEVEL"), "option")
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        edit_question(draft, "P_LEVEL", options=[senior, other], actor=owner)

    assert "domain D1: 'MIDDLE' is not a choice of P_LEVEL" in refused.value.messages
    assert state(draft) == before


def test_an_open_questionnaires_choices_cannot_be_deleted(opened, owner):
    senior, _middle, other = choice_inputs(question_of(opened, "P_LEVEL"), "option")
    before = state(opened)

    with pytest.raises(LockedEdit) as refused:
        edit_question(opened, "P_LEVEL", options=[senior, other], actor=owner)

    assert refused.value.messages[0].startswith("Choices of P_LEVEL cannot be deleted (MIDDLE)")
    assert refused.value.messages[0].endswith(LOCKED_ADVICE)
    assert state(opened) == before


def test_an_open_questionnaires_choices_keep_their_codes_and_values(opened, owner):
    senior, middle, other = choice_inputs(question_of(opened, "P_LEVEL"), "option")
    before = state(opened)

    with pytest.raises(LockedEdit, match="Choice SENIOR of P_LEVEL cannot change its code, value"):
        edit_question(opened, "P_LEVEL", options=[replace(senior, value=5), middle, other], actor=owner)
    with pytest.raises(LockedEdit, match="Choice SENIOR of P_LEVEL cannot change its code, value"):
        edit_question(opened, "P_LEVEL", options=[replace(senior, code="TOP"), middle, other], actor=owner)

    assert state(opened) == before


@pytest.mark.parametrize(
    ("change", "label"),
    [
        ({"code": "P_GRADE"}, "its code"),
        ({"type": "likert"}, "its type"),
    ],
)
def test_an_open_questionnaires_question_keeps_its_code_and_type(opened, owner, change, label):
    before = state(opened)

    with pytest.raises(LockedEdit) as refused:
        edit_question(opened, "P_LEVEL", actor=owner, **change)

    assert refused.value.messages[0].startswith(f"Question P_LEVEL cannot change {label}: ")
    assert state(opened) == before


def test_an_open_questionnaires_question_stays_in_its_domain(opened, owner):
    before = state(opened)

    with pytest.raises(LockedEdit, match="Question D1_Q3 cannot change its domain"):
        edit_question(opened, "D1_Q3", domain_id=domain_of(opened, "PROFILE").pk, actor=owner)

    assert state(opened) == before


def test_an_open_questionnaires_question_wording_can_change_and_is_audited(opened, owner):
    revision = fresh(opened).revision

    edit_question(opened, "P_LEVEL", text=texts("Your level", "Votre niveau"), actor=owner)

    assert question_of(opened, "P_LEVEL").text == {"en": "Your level", "fr": "Votre niveau"}
    assert fresh(opened).revision == revision + 1
    entry = last_edit(opened)
    assert entry.detail == {
        "launched": True,
        "question": "P_LEVEL",
        "created": False,
        "changes": {
            "text": {
                "before": {"en": "Level", "fr": "Niveau"},
                "after": {"en": "Your level", "fr": "Votre niveau"},
            }
        },
    }


def test_an_open_questionnaire_accepts_a_new_choice(opened, owner):
    options = choice_inputs(question_of(opened, "P_SITE"), "option")

    edit_question(opened, "P_SITE", options=[*options, option("COMMUNITY", 3)], actor=owner)

    assert choices_of(opened, "P_SITE") == [("ADMIN", 1), ("CUSTODIAL", 2), ("COMMUNITY", 3)]


@pytest.mark.parametrize(
    "condition",
    [
        {"question": "P_SCORE", "op": "lt", "value": 1},  # a later question
        {"question": "P_LEVEL", "op": "equals", "value": "SENIOR"},  # itself
        {"question": "NOWHERE", "op": "answered"},  # no question at all
    ],
)
def test_a_question_condition_must_test_an_earlier_question(draft, owner, condition):
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        edit_question(draft, "P_LEVEL", condition=condition, actor=owner)

    assert list(refused.value.message_dict) == ["condition"]
    assert state(draft) == before


def test_a_new_question_testing_itself_is_not_created(draft, owner):
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        add_question(draft, "D1", "D1_Q8", condition={"question": "D1_Q8", "op": "answered"}, actor=owner)

    assert refused.value.message_dict == {
        "condition": ["D1_Q8 does not come before this point: a condition can only use earlier answers"]
    }
    assert state(draft) == before


def test_a_condition_on_an_earlier_question_is_saved(draft, owner):
    condition = {
        "any": [
            {"value": "SENIOR", "op": "equals", "question": "P_LEVEL"},
            {"question": "P_COUNTRY", "op": "answered"},
        ]
    }

    edit_question(draft, "P_SITE", condition=condition, actor=owner)

    assert question_of(draft, "P_SITE").condition == condition
    assert last_edit(draft).detail["changes"]["condition"] == {"before": None, "after": condition}
    assert problems_of(draft) == []


def test_an_open_questionnaire_refuses_an_edit_that_leaves_a_translation_missing(opened, owner):
    before = state(opened)

    with pytest.raises(ValidationError) as refused:
        edit_question(opened, "P_LEVEL", text={"en": "Level", "fr": "  "}, actor=owner)

    assert not isinstance(refused.value, LockedEdit)
    assert refused.value.messages == [
        "The questionnaire is open, so this edit must leave it without problems:",
        "$.domains[0].questions[1].text.fr: missing translation (fr)",
    ]
    assert state(opened) == before


def test_a_draft_accepts_an_edit_that_leaves_a_translation_missing(draft, owner):
    edit_question(draft, "P_LEVEL", text={"en": "Level", "fr": ""}, actor=owner)

    assert question_of(draft, "P_LEVEL").text == {"en": "Level"}
    assert "$.domains[0].questions[1].text.fr: missing translation (fr)" in problems_of(draft)


def test_an_open_questionnaire_accepts_a_new_conditional_question_in_both_languages(opened, owner):
    revision = fresh(opened).revision

    question = add_question(
        opened,
        "D1",
        "D1_Q8",
        type="long_text",
        text=texts("Why?", "Pourquoi ?"),
        condition={"question": "D1_Q3", "op": "equals", "value": "NO"},
        actor=owner,
    )

    question.refresh_from_db()
    assert question.condition == {"question": "D1_Q3", "op": "equals", "value": "NO"}
    assert codes_in_order(opened)[1][1][-1] == "D1_Q8"
    assert fresh(opened).revision == revision + 1
    assert problems_of(opened) == []
    assert fresh(opened).status == Questionnaire.Status.OPEN
    assert last_edit(opened).detail["created"] is True and last_edit(opened).detail["launched"] is True


def test_an_open_questionnaire_refuses_a_new_question_missing_a_translation(opened, owner):
    before = state(opened)

    with pytest.raises(ValidationError, match=r"questions\[7\]\.text\.fr: missing translation"):
        add_question(opened, "D1", "D1_Q8", text={"en": "Why?"}, actor=owner)

    assert state(opened) == before


def test_a_question_code_used_by_another_question_is_refused(draft, owner):
    before = state(draft)

    with pytest.raises(ValidationError) as new_one:
        add_question(draft, "D1", "P_LEVEL", actor=owner)
    with pytest.raises(ValidationError) as renamed:
        edit_question(draft, "D1_Q3", code="P_LEVEL", actor=owner)

    expected = {"code": ["Another question of this questionnaire has the code P_LEVEL."]}
    assert new_one.value.message_dict == renamed.value.message_dict == expected
    assert state(draft) == before


def test_a_breakdown_mark_already_used_is_refused(draft, owner):
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        add_question(draft, "D1", "D1_WHERE", type="country", breakdown="country", actor=owner)

    assert refused.value.message_dict == {"breakdown": ["Question P_COUNTRY already has this mark."]}
    assert state(draft) == before


def test_a_choice_of_another_question_is_refused(draft, owner):
    stolen = replace(choice_inputs(question_of(draft, "P_LEVEL"), "option")[0], value=3)  # SENIOR
    options = choice_inputs(question_of(draft, "P_SITE"), "option")
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        edit_question(draft, "P_SITE", options=[*options, stolen], actor=owner)

    assert refused.value.messages == [
        "The form names a choice that is not one of this question's: reload the page."
    ]
    assert state(draft) == before


def test_an_item_sent_as_an_option_is_refused(draft, owner):
    question = question_of(draft, "D1_Q7")
    items = choice_inputs(question, "item")
    options = choice_inputs(question, "option")
    before = state(draft)

    with pytest.raises(ValidationError, match="not one of this question's"):
        edit_question(
            draft, "D1_Q7", options=[*options, replace(items[0], value=3)], items=items[1:], actor=owner
        )

    assert state(draft) == before


def test_repeated_choice_codes_or_values_are_refused(draft, owner):
    senior, middle, other = choice_inputs(question_of(draft, "P_LEVEL"), "option")
    before = state(draft)

    with pytest.raises(ValidationError) as codes:
        edit_question(draft, "P_LEVEL", options=[senior, replace(middle, code="SENIOR"), other], actor=owner)
    with pytest.raises(ValidationError) as values:
        edit_question(draft, "P_LEVEL", options=[senior, replace(middle, value=1), other], actor=owner)

    assert codes.value.message_dict == {"options": ["Each code once: SENIOR is repeated."]}
    assert values.value.message_dict == {"options": ["Each value once: 1 is repeated."]}
    assert state(draft) == before


def test_a_question_edit_made_on_a_stale_page_is_refused_and_writes_nothing(draft, owner):
    question = question_of(draft, "P_LEVEL")
    opened_on = question_fingerprint(question, list(question.choices.all()))
    senior, middle, other = choice_inputs(question, "option")
    edit_question(
        draft, "P_LEVEL", options=[senior, middle, replace(other, label=texts("Else"))], actor=owner
    )
    before = state(draft)

    with pytest.raises(StaleEdit) as refused:
        edit_question(draft, "P_LEVEL", text=texts("Mine"), fingerprint=opened_on, actor=owner)

    assert refused.value.messages[0].startswith("Question P_LEVEL was changed elsewhere")

    assert state(draft) == before
    assert question_of(draft, "P_LEVEL").text == {"en": "Level", "fr": "Niveau"}


def test_a_question_can_move_to_another_domain_in_a_draft(draft, owner):
    edit_question(draft, "D1_Q7", domain_id=domain_of(draft, "PROFILE").pk, actor=owner)

    assert codes_in_order(draft)[0] == (
        "PROFILE",
        ["P_COUNTRY", "P_LEVEL", "P_SITE", "P_PEERS", "P_SCORE", "D1_Q7"],
    )
    assert last_edit(draft).detail["changes"]["domain"] == {"before": "D1", "after": "PROFILE"}


def test_moving_a_question_after_one_whose_condition_tests_it_is_refused(draft, owner):
    # D1_Q4 tests P_SITE: moving P_SITE to the end of D1 would leave it testing a later question.
    before = state(draft)

    with pytest.raises(ValidationError):
        edit_question(draft, "P_SITE", domain_id=domain_of(draft, "D1").pk, actor=owner)

    assert state(draft) == before


def test_an_option_and_an_item_with_the_same_code_are_refused_as_a_validation_error(draft, owner):
    # The database keeps a choice code unique across a question's options and items.
    question = question_of(draft, "D1_Q7")
    options = choice_inputs(question, "option")
    items = choice_inputs(question, "item")
    before = state(draft)

    with pytest.raises(ValidationError):
        edit_question(draft, "D1_Q7", options=[*options, option("MIXED", 3)], items=items, actor=owner)

    assert state(draft) == before


@pytest.mark.parametrize(
    "condition",
    [
        {"op": "answered"},  # no question named
        {"question": "P_LEVEL"},  # no operator
        {"all": "P_LEVEL"},  # a group that is not a list
    ],
)
def test_a_malformed_condition_is_refused_as_a_validation_error(draft, owner, condition):
    # A condition typed as JSON in the form can have any shape.
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        edit_question(draft, "P_SITE", condition=condition, actor=owner)

    assert "condition" in refused.value.message_dict
    assert state(draft) == before


def test_a_malformed_domain_condition_is_refused_as_a_validation_error(draft, owner):
    # The same for a domain's condition.
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        edit_domain(draft, "D1", condition={"op": "answered"}, actor=owner)

    assert "condition" in refused.value.message_dict
    assert state(draft) == before


# --- question_delete -------------------------------------------------------------------------------


def test_a_draft_question_is_deleted_with_its_choices(draft, owner):
    question = question_of(draft, "D1_Q2")
    choice_ids = list(question.choices.values_list("pk", flat=True))
    revision = fresh(draft).revision

    question_delete(question=question, actor=owner)

    assert not Question.objects.filter(pk=question.pk).exists()
    assert not Choice.objects.filter(pk__in=choice_ids).exists()
    assert fresh(draft).revision == revision + 1
    entry = last_edit(draft)
    assert (entry.target_id, entry.detail) == (
        str(question.pk),
        {"launched": False, "deleted_question": "D1_Q2"},
    )


def test_an_open_questionnaires_question_cannot_be_deleted(opened, owner):
    before = state(opened)

    with pytest.raises(LockedEdit) as refused:
        question_delete(question=question_of(opened, "D1_Q2"), actor=owner)

    assert refused.value.messages == [
        "Question D1_Q2 cannot be deleted: the questionnaire is open and stored answers depend on it. "
        + LOCKED_ADVICE
    ]
    assert state(opened) == before


@pytest.mark.parametrize(
    ("code", "users"),
    [("D1_Q4", "D1_Q5"), ("P_LEVEL", "domain D1"), ("P_SITE", "D1_Q4")],
)
def test_a_question_used_by_a_condition_cannot_be_deleted(draft, owner, code, users):
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        question_delete(question=question_of(draft, code), actor=owner)

    assert refused.value.messages == [
        f"The conditions of {users} use question {code}: change them first, then delete it. "
        "Nothing was deleted."
    ]
    assert state(draft) == before


# --- domains_reorder and questions_reorder ---------------------------------------------------------


def test_domains_take_the_new_order_and_it_is_audited(draft, owner):
    extra = add_domain(draft, "EXTRA", actor=owner)
    add_question(draft, "EXTRA", "X_Q1", actor=owner)
    profile, d1 = domain_of(draft, "PROFILE"), domain_of(draft, "D1")
    revision = fresh(draft).revision

    domains_reorder(questionnaire=draft, ordered_ids=[profile.pk, extra.pk, d1.pk], actor=owner)

    assert [code for code, _ in codes_in_order(draft)] == ["PROFILE", "EXTRA", "D1"]
    assert list(
        Domain.objects.filter(questionnaire=draft).order_by("code").values_list("code", "position")
    ) == [
        ("D1", 2),
        ("EXTRA", 1),
        ("PROFILE", 0),
    ]
    assert fresh(draft).revision == revision + 1
    assert last_edit(draft).detail == {
        "launched": False,
        "order": {"before": ["PROFILE", "D1", "EXTRA"], "after": ["PROFILE", "EXTRA", "D1"]},
    }


def test_questions_take_the_new_order_and_it_is_audited(opened, owner):
    profile = domain_of(opened, "PROFILE")
    ids = list(profile.questions.order_by("position").values_list("pk", flat=True))

    questions_reorder(domain=profile, ordered_ids=ids[::-1], actor=owner)

    expected = ["P_SCORE", "P_PEERS", "P_SITE", "P_LEVEL", "P_COUNTRY"]
    assert codes_in_order(opened)[0] == ("PROFILE", expected)
    assert list(profile.questions.order_by("position").values_list("position", flat=True)) == [0, 1, 2, 3, 4]
    assert last_edit(opened).detail == {
        "launched": True,
        "domain": "PROFILE",
        "order": {"before": expected[::-1], "after": expected},
    }


def _domain_ids(questionnaire) -> list[int]:
    return list(
        Domain.objects.filter(questionnaire=questionnaire).order_by("position").values_list("pk", flat=True)
    )


def _question_ids(questionnaire, domain_code: str) -> list[int]:
    domain = domain_of(questionnaire, domain_code)
    return list(domain.questions.order_by("position").values_list("pk", flat=True))


BAD_ORDERS = {
    "unknown": (lambda ids: [*ids, 999_999], "unknown ids [999999]"),
    "missing": (lambda ids: ids[:-1], "missing ids ["),
    "twice": (lambda ids: [*ids[:-1], ids[0]], "an id given twice"),
}


@pytest.mark.parametrize("case", BAD_ORDERS)
def test_a_domain_order_that_does_not_name_each_domain_once_is_refused(draft, owner, case):
    make, detail = BAD_ORDERS[case]
    before = state(draft)

    with pytest.raises(UnknownOrder) as refused:
        domains_reorder(questionnaire=draft, ordered_ids=make(_domain_ids(draft)), actor=owner)

    assert refused.value.messages[0].startswith(
        "The new order must name each of the domains of this questionnaire"
    )
    assert detail in refused.value.messages[0]
    assert refused.value.messages[0].endswith("Nothing was changed.")
    assert state(draft) == before


@pytest.mark.parametrize("case", BAD_ORDERS)
def test_a_question_order_that_does_not_name_each_question_once_is_refused(draft, owner, case):
    make, detail = BAD_ORDERS[case]
    before = state(draft)

    with pytest.raises(UnknownOrder) as refused:
        questions_reorder(
            domain=domain_of(draft, "D1"), ordered_ids=make(_question_ids(draft, "D1")), actor=owner
        )

    assert "each of the questions of domain D1 once" in refused.value.messages[0]
    assert detail in refused.value.messages[0]
    assert state(draft) == before


def test_a_question_of_another_domain_cannot_join_this_domains_order(draft, owner):
    ids = _question_ids(draft, "D1")
    intruder = question_of(draft, "P_LEVEL").pk
    before = state(draft)

    with pytest.raises(UnknownOrder, match=rf"unknown ids \[{intruder}\]; missing ids \[{ids[-1]}\]"):
        questions_reorder(domain=domain_of(draft, "D1"), ordered_ids=[*ids[:-1], intruder], actor=owner)

    assert state(draft) == before


@pytest.mark.parametrize("fixture", ["draft", "opened"])
def test_a_domain_order_putting_a_condition_before_what_it_tests_is_refused(request, owner, fixture):
    questionnaire = request.getfixturevalue(fixture)
    before = state(questionnaire)

    with pytest.raises(ValidationError) as refused:
        domains_reorder(
            questionnaire=questionnaire, ordered_ids=_domain_ids(questionnaire)[::-1], actor=owner
        )

    assert not isinstance(refused.value, UnknownOrder)
    assert refused.value.messages[0] == (
        "This order would break a display condition (it would test a question that comes after it, "
        "or one that is gone), so nothing was saved:"
    )
    assert (
        "domain D1: P_LEVEL does not come before this point: a condition can only use earlier answers"
        in refused.value.messages
    )
    assert state(questionnaire) == before


@pytest.mark.parametrize("fixture", ["draft", "opened"])
def test_a_question_order_putting_a_condition_before_what_it_tests_is_refused(request, owner, fixture):
    questionnaire = request.getfixturevalue(fixture)
    q1, q2, *rest = _question_ids(questionnaire, "D1")
    before = state(questionnaire)

    with pytest.raises(ValidationError) as refused:
        questions_reorder(domain=domain_of(questionnaire, "D1"), ordered_ids=[q2, q1, *rest], actor=owner)

    assert refused.value.messages[1:] == [
        "D1_Q2: D1_Q1 does not come before this point: a condition can only use earlier answers"
    ]
    assert state(questionnaire) == before


def test_move_in_order_moves_one_step_and_stops_at_the_ends():
    ids = [10, 20, 30]

    assert move_in_order(ids, 20, "up") == [20, 10, 30]
    assert move_in_order(ids, 20, "down") == [10, 30, 20]
    assert move_in_order(ids, 10, "up") == [10, 20, 30]
    assert move_in_order(ids, 30, "down") == [10, 20, 30]
    assert ids == [10, 20, 30]  # the given list is not changed


# --- translations_save -----------------------------------------------------------------------------


def test_translations_are_written_given_the_text_they_were_shown_on(draft, owner):
    question, domain = question_of(draft, "P_LEVEL"), domain_of(draft, "D1")
    choice = question.choices.get(code="MIDDLE")
    revision = fresh(draft).revision

    count = translations_save(
        questionnaire=draft,
        edits={
            cell(question, "text"): (shown(question, "text"), "Niveau hiérarchique"),
            cell(domain, "description"): (shown(domain, "description"), "  Un domaine\r\nnouveau  "),
            cell(choice, "label"): (shown(choice, "label"), "Cadre moyen"),
            cell(question, "text", "en"): (shown(question, "text", "en"), "Level"),  # unchanged
        },
        actor=owner,
    )

    assert count == 3
    assert question_of(draft, "P_LEVEL").text == {"en": "Level", "fr": "Niveau hiérarchique"}
    assert domain_of(draft, "D1").description == {"fr": "Un domaine\nnouveau"}
    assert Choice.objects.get(pk=choice.pk).label == {"en": "Middle", "fr": "Cadre moyen"}
    assert fresh(draft).revision == revision + 1
    log = last_edit(draft).detail["translations"]
    assert {
        "text": "question P_LEVEL text",
        "language": "fr",
        "before": "Niveau",
        "after": "Niveau hiérarchique",
    } in log
    assert {
        "text": "domain D1 description",
        "language": "fr",
        "before": "",
        "after": "Un domaine\nnouveau",
    } in log
    assert len(log) == 3


def test_translations_that_change_nothing_write_nothing(draft, owner):
    question = question_of(draft, "P_LEVEL")
    before = state(draft)

    count = translations_save(
        questionnaire=draft, edits={cell(question, "text"): (shown(question, "text"), "Niveau ")}, actor=owner
    )

    assert count == 0
    assert state(draft) == before


def test_a_stale_translation_refuses_every_text_of_the_form(draft, owner):
    question, domain = question_of(draft, "P_LEVEL"), domain_of(draft, "D1")
    before = state(draft)

    with pytest.raises(StaleEdit) as refused:
        translations_save(
            questionnaire=draft,
            edits={
                cell(domain, "title"): (shown(domain, "title"), "Logement"),
                cell(question, "text"): (text_fingerprint("Niveau (old)"), "Niveau hiérarchique"),
            },
            actor=owner,
        )

    assert refused.value.messages[0].startswith("1 of these texts was changed elsewhere")
    assert state(draft) == before
    assert domain_of(draft, "D1").title["fr"] == "Hébergement"


def test_a_stale_consent_translation_creates_no_consent_version(draft, owner):
    questionnaire = fresh(draft)
    before = state(draft)

    with pytest.raises(StaleEdit):
        translations_save(
            questionnaire=draft,
            edits={cell(questionnaire, "consent_text"): (text_fingerprint("Old"), "J'y consens.")},
            actor=owner,
        )

    assert state(draft) == before


def _other_questionnaires_domain(owner) -> Domain:
    other = questionnaire_create_blank(slug="other", title="Other", languages=["en", "fr"], actor=owner)
    return add_domain(other, "OTHER", actor=owner)


@pytest.mark.parametrize(
    ("make_cell", "message"),
    [
        (lambda q, owner: cell(question_of(q, "P_LEVEL"), "text", "de"), "does not have"),
        (lambda q, owner: cell(question_of(q, "P_LEVEL"), "code"), "does not have"),
        (lambda q, owner: TextCell("membership", q.pk, "role", "fr"), "does not have"),
        (lambda q, owner: cell(_other_questionnaires_domain(owner), "title"), "does not have"),
        (lambda q, owner: TextCell("question", 999_999, "text", "fr"), "does not have"),
        (lambda q, owner: cell(fresh(_other_questionnaires_domain(owner).questionnaire), "title"), "another"),
    ],
    ids=["language", "field", "model", "other-domain", "no-such-question", "other-questionnaire"],
)
def test_a_translation_naming_a_text_the_questionnaire_lacks_is_refused(draft, owner, make_cell, message):
    target = make_cell(draft, owner)
    question = question_of(draft, "P_LEVEL")
    before = state(draft)

    with pytest.raises(ValidationError) as refused:
        translations_save(
            questionnaire=draft,
            edits={
                cell(question, "text"): (shown(question, "text"), "Niveau hiérarchique"),
                target: (text_fingerprint(""), "Texte"),
            },
            actor=owner,
        )

    assert not isinstance(refused.value, StaleEdit)
    assert message in refused.value.messages[0] and "reload the page" in refused.value.messages[0]
    assert state(draft) == before


def test_a_consent_translation_makes_a_new_consent_version(draft, owner):
    questionnaire = fresh(draft)

    count = translations_save(
        questionnaire=draft,
        edits={cell(questionnaire, "consent_text"): (shown(questionnaire, "consent_text"), "J'y consens.")},
        actor=owner,
    )

    questionnaire = fresh(draft)
    assert count == 1
    assert questionnaire.consent_text == {"en": "I agree.", "fr": "J'y consens."}
    assert questionnaire.consent_version == 3
    assert list(ConsentVersion.objects.filter(questionnaire=draft).values_list("version", "text")) == [
        (2, {"en": "I agree.", "fr": "J'accepte."}),
        (3, {"en": "I agree.", "fr": "J'y consens."}),
    ]


def test_an_open_questionnaire_accepts_new_wording_in_a_translation(opened, owner):
    question = question_of(opened, "D1_Q3")

    translations_save(
        questionnaire=opened,
        edits={cell(question, "text"): (shown(question, "text"), "Spécialisée ?")},
        actor=owner,
    )

    assert question_of(opened, "D1_Q3").text["fr"] == "Spécialisée ?"
    assert last_edit(opened).detail["launched"] is True


def test_an_open_questionnaire_refuses_a_blanked_question_translation(opened, owner):
    question = question_of(opened, "D1_Q3")
    before = state(opened)

    with pytest.raises(ValidationError) as refused:
        translations_save(
            questionnaire=opened, edits={cell(question, "text"): (shown(question, "text"), "")}, actor=owner
        )

    assert "$.domains[1].questions[2].text.fr: missing translation (fr)" in refused.value.messages
    assert state(opened) == before


def test_an_open_questionnaire_refuses_a_blanked_title_translation(opened, owner):
    questionnaire = fresh(opened)
    before = state(opened)

    with pytest.raises(ValidationError, match=r"title"):
        translations_save(
            questionnaire=opened,
            edits={cell(questionnaire, "title"): (shown(questionnaire, "title"), " ")},
            actor=owner,
        )

    assert state(opened) == before


@pytest.mark.parametrize("field", ["consent_text", "introduction"])
def test_an_open_questionnaire_refuses_a_blanked_consent_or_introduction_translation(opened, owner, field):
    # Opening refuses a missing consent or introduction translation: an open questionnaire keeps them.
    questionnaire = fresh(opened)
    before = state(opened)

    with pytest.raises(ValidationError):
        translations_save(
            questionnaire=opened,
            edits={cell(questionnaire, field): (shown(questionnaire, field), "")},
            actor=owner,
        )

    assert state(opened) == before


# --- questionnaire_update_settings -----------------------------------------------------------------


def test_settings_change_title_and_dates_and_are_audited(draft, owner):
    opens, closes = datetime(2027, 1, 4, 9, tzinfo=UTC), datetime(2027, 3, 31, 22, tzinfo=UTC)
    previous = fresh(draft)
    revision = previous.revision

    update_settings(
        draft,
        title=texts("Every type, again", "Tous les types, encore"),
        opens_at=opens,
        closes_at=closes,
        time_zone="Europe/Paris",
        nomination_quota=5,
        actor=owner,
    )

    questionnaire = fresh(draft)
    assert questionnaire.title == {"en": "Every type, again", "fr": "Tous les types, encore"}
    assert (questionnaire.opens_at, questionnaire.closes_at) == (opens, closes)
    assert (questionnaire.time_zone, questionnaire.nomination_quota) == ("Europe/Paris", 5)
    assert questionnaire.consent_version == previous.consent_version  # the same consent text
    assert questionnaire.revision == revision + 1
    changes = last_edit(draft).detail["settings"]
    assert set(changes) == {"title", "opens_at", "closes_at", "time_zone", "nomination_quota"}
    assert changes["closes_at"] == {"before": previous.closes_at.isoformat(), "after": closes.isoformat()}
    assert changes["nomination_quota"] == {"before": 3, "after": 5}


def test_settings_drop_empty_texts_and_version_a_new_consent(draft, owner):
    update_settings(
        draft,
        organisation={"en": "Research", "fr": ""},
        consent_text=texts("I consent.", "J'y consens."),
        actor=owner,
    )

    questionnaire = fresh(draft)
    assert questionnaire.organisation == {"en": "Research"}
    assert questionnaire.consent_version == 3
    assert questionnaire.consent_versions.get(version=3).text == texts("I consent.", "J'y consens.")


def test_settings_closing_before_opening_are_refused(draft, owner):
    before = state(draft)
    opens = datetime(2027, 1, 4, tzinfo=UTC)

    with pytest.raises(ValidationError) as refused:
        update_settings(draft, opens_at=opens, closes_at=opens - timedelta(days=1), actor=owner)

    assert "The closing date must come after the opening date." in refused.value.messages
    assert state(draft) == before


def test_languages_may_change_before_launch(draft, owner):
    update_settings(
        draft, languages=["en", "fr", "de"], title={**texts("Every type"), "de": "Alle"}, actor=owner
    )

    questionnaire = fresh(draft)
    assert questionnaire.languages == ["en", "fr", "de"]
    assert questionnaire.title["de"] == "Alle"
    assert "$.domains[0].title.de: missing translation (de)" in problems_of(draft)


@pytest.mark.parametrize("languages", [["en"], ["fr", "en"], ["en", "fr", "de"]])
def test_an_open_questionnaire_keeps_its_languages(opened, owner, languages):
    before = state(opened)

    with pytest.raises(LockedEdit) as refused:
        update_settings(opened, languages=languages, actor=owner)

    assert refused.value.messages[0].startswith(
        "The languages cannot change after launch: the questionnaire is open"
    )

    assert state(opened) == before


def test_an_open_questionnaire_keeps_its_consent_text_in_every_language(opened, owner):
    # The settings page keeps them too.
    before = state(opened)

    with pytest.raises(ValidationError):
        update_settings(opened, consent_text={"en": "I agree."}, actor=owner)

    assert state(opened) == before


def test_an_open_questionnaire_keeps_its_title_in_every_language(opened, owner):
    before = state(opened)

    with pytest.raises(ValidationError, match="title"):
        update_settings(opened, title={"en": "Every type"}, actor=owner)

    assert state(opened) == before


def test_an_open_questionnaires_closing_date_can_be_extended(opened, owner):
    closes = fresh(opened).closes_at + timedelta(days=14)

    update_settings(opened, closes_at=closes, actor=owner)

    assert fresh(opened).closes_at == closes
    assert last_edit(opened).detail["launched"] is True


def test_settings_saved_on_a_stale_page_are_refused(draft, owner):
    opened_on = questionnaire_fingerprint(fresh(draft))
    update_settings(draft, nomination_quota=4, actor=owner)  # meanwhile, elsewhere
    before = state(draft)

    with pytest.raises(StaleEdit) as refused:
        update_settings(draft, title=texts("Mine"), fingerprint=opened_on, actor=owner)

    assert refused.value.messages[0].startswith("The questionnaire's settings was changed elsewhere")

    assert state(draft) == before
    assert fresh(draft).nomination_quota == 4


def test_fingerprints_change_with_the_state_they_describe(draft, owner):
    question = question_of(draft, "P_LEVEL")
    domain = domain_of(draft, "D1")
    question_before = question_fingerprint(question, list(question.choices.all()))
    domain_before = domain_fingerprint(domain)
    settings_before = questionnaire_fingerprint(fresh(draft))

    assert question_fingerprint(question, list(question.choices.all())) == question_before  # stable
    senior, middle, other = choice_inputs(question, "option")
    edit_question(
        draft, "P_LEVEL", options=[senior, middle, replace(other, label=texts("Else"))], actor=owner
    )
    edit_domain(draft, "D1", condition=None, actor=owner)
    update_settings(draft, time_zone="UTC", actor=owner)

    question = question_of(draft, "P_LEVEL")
    assert question_fingerprint(question, list(question.choices.all())) != question_before
    assert domain_fingerprint(domain_of(draft, "D1")) != domain_before
    assert questionnaire_fingerprint(fresh(draft)) != settings_before
    assert text_fingerprint("Niveau") == text_fingerprint("Niveau") != text_fingerprint("Niveau ")
