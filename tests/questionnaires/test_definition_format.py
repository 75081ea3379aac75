"""Import and export of the definition file."""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from consultation.models import AuditEntry
from questionnaires.definition_format import DefinitionError, document_to_json, dumps
from questionnaires.models import Choice, Domain, Question, Questionnaire
from questionnaires.selectors import questionnaire_definition, questionnaire_document
from questionnaires.services import questionnaire_import
from tests.conftest import EVERY_TYPE

DEMO = (
    Path(__file__).resolve().parents[2]
    / "questionnaires"
    / "demo"
    / "radicalized-offenders-consultation.json"
)

pytestmark = pytest.mark.django_db


def every_type() -> dict:
    return json.loads(EVERY_TYPE.read_text())


def export(slug: str) -> str:
    out = StringIO()
    call_command("export_questionnaire", slug, stdout=out)
    return out.getvalue()


def import_problems(document) -> set[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        questionnaire_import(raw=json.dumps(document) if not isinstance(document, str | bytes) else document)
    return {(problem.path, problem.message) for problem in caught.value.problems}


def test_import_builds_every_type_in_order():
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes())
    assert questionnaire.status == Questionnaire.Status.DRAFT
    assert questionnaire.consent_version == 2
    assert list(questionnaire.domains.values_list("code", flat=True)) == ["PROFILE", "D1"]
    types = set(Question.objects.filter(questionnaire=questionnaire).values_list("type", flat=True))
    assert types == {
        "country",
        "single_choice",
        "number",
        "multiple_choice",
        "likert",
        "yes_no_dk",
        "short_text",
        "long_text",
        "ranking",
        "matrix",
    }
    yes_no = Question.objects.get(questionnaire=questionnaire, code="D1_Q3")
    assert list(yes_no.choices.values_list("code", "value")) == [("YES", 1), ("NO", 0), ("DK", 9)]
    matrix = questionnaire_definition(questionnaire).question("D1_Q7")
    assert [i.code for i in matrix.items] == ["ISOLATION", "MIXED"] and [c.code for c in matrix.options] == [
        "LOW",
        "HIGH",
    ]
    # What the importer wrote passes the models' own validation (the admin's forms rely on it).
    for row in [questionnaire, *questionnaire.domains.all(), *questionnaire.questions.all()]:
        row.full_clean()
    for choice in Choice.objects.filter(question__questionnaire=questionnaire):
        choice.full_clean()
    assert yes_no.get_type_display() == "Yes / no / don't know"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.QUESTIONNAIRE_IMPORTED)
    assert entry.questionnaire == questionnaire and entry.detail["questions"] == 12


def test_round_trip_is_byte_identical(django_db_blocker):
    questionnaire_import(raw=EVERY_TYPE.read_bytes())
    first = export("every-type")
    # Into an empty database: drop everything, then import the export.
    Questionnaire.objects.all().delete()
    assert not Question.objects.exists() and not Choice.objects.exists()
    questionnaire_import(raw=first)
    second = export("every-type")
    assert second == first
    document = json.loads(first)
    assert document["schedule"] == {
        "opens_at": "2026-09-01T13:00:00Z",
        "closes_at": "2036-11-30T23:59:00Z",
        "time_zone": "America/Toronto",
    }
    # Texts are written in the questionnaire's language order, whatever order the file had.
    assert list(document["title"]) == ["en", "fr"]
    # Conditions are written in a fixed key order.
    assert list(document["domains"][1]["questions"][1]["condition"]) == ["question", "op", "value"]


def test_demo_round_trip_is_byte_identical():
    questionnaire_import(raw=DEMO.read_bytes())
    first = export("radicalized-offenders-consultation")
    Questionnaire.objects.all().delete()
    questionnaire_import(raw=first)
    assert export("radicalized-offenders-consultation") == first


def test_import_under_another_slug_makes_a_copy():
    questionnaire_import(raw=EVERY_TYPE.read_bytes())
    copy_ = questionnaire_import(raw=EVERY_TYPE.read_bytes(), slug="every-type-copy")
    assert copy_.questions.count() == 12
    assert Questionnaire.objects.count() == 2


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d.update(format="something-else"),
            ("$.format", "expected 'consultation.questionnaire': is this a questionnaire definition?"),
        ),
        (lambda d: d.update(domains="none"), ("$.domains", "expected a list, found a string")),
        (
            lambda d: d["domains"][1]["questions"][0].update(type="slider"),
            ("$.domains[1].questions[0].type", None),
        ),
        (
            lambda d: d["domains"][1]["questions"][0]["choices"][0].update(value="one"),
            ("$.domains[1].questions[0].choices[0].value", "expected a whole number, found a string"),
        ),
        (
            lambda d: d["domains"][0]["questions"][1].update(code="P_COUNTRY"),
            ("$.domains[0].questions[1].code", None),
        ),
        (
            lambda d: d["domains"][1]["questions"][1]["condition"].update(question="D1_Q7"),
            ("$.domains[1].questions[1].condition.question", None),
        ),
        (
            lambda d: d["domains"][1]["questions"][1]["condition"].update(question="GHOST"),
            ("$.domains[1].questions[1].condition.question", "no question has the code 'GHOST'"),
        ),
        (
            lambda d: d["domains"][1]["questions"][2]["text"].pop("fr"),
            ("$.domains[1].questions[2].text.fr", "missing translation (fr)"),
        ),
        (
            lambda d: d["schedule"].update(closes_at="2026-08-01T00:00:00Z"),
            ("$.schedule.closes_at", "the closing date must come after the opening date"),
        ),
        (lambda d: d["schedule"].update(opens_at="next tuesday"), ("$.schedule.opens_at", None)),
        (lambda d: d["schedule"].update(opens_at="2026-09-01T09:00:00"), ("$.schedule.opens_at", None)),
        (lambda d: d["schedule"].update(time_zone="Mars/Olympus"), ("$.schedule.time_zone", None)),
        (lambda d: d.update(slug="Not A Slug"), ("$.slug", None)),
        (
            lambda d: d["domains"][0]["questions"][0].update(colour="red"),
            ("$.domains[0].questions[0].colour", "unknown key"),
        ),
        (
            lambda d: d["domains"][0].update(questions=[]),
            ("$.domains[0].questions", "a domain needs at least one question"),
        ),
        (lambda d: d.update(languages=["en", "fr", "fr"]), ("$.languages", "a language is listed twice")),
        (
            lambda d: d["domains"][0]["questions"][2].update(breakdown="role"),
            ("$.domains[0].questions[2].breakdown", None),
        ),
    ],
)
def test_a_bad_file_is_refused_whole_with_its_json_path(mutate, expected):
    document = every_type()
    mutate(document)
    problems = import_problems(document)
    path, message = expected
    assert path in {p for p, _ in problems}, problems
    if message:
        assert expected in problems
    assert not Questionnaire.objects.exists()
    assert not Domain.objects.exists() and not Question.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe{", "the file is not UTF-8 text"),
        ('{"format": ', "not valid JSON"),
        ("[]", "expected an object, found a list"),
    ],
)
def test_not_even_json(raw, message):
    problems = import_problems(raw)
    assert any(message in text for _, text in problems), problems


def test_a_duplicate_slug_is_refused():
    questionnaire_import(raw=EVERY_TYPE.read_bytes())
    assert ("$.slug", "a questionnaire with the slug 'every-type' already exists") in import_problems(
        every_type()
    )
    assert Questionnaire.objects.count() == 1


def test_the_import_command_names_every_problem_and_imports_nothing(tmp_path):
    document = every_type()
    document["domains"][0]["questions"][0]["code"] = "bad code"
    document["domains"][1]["questions"][0]["choices"] = []
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError) as caught:
        call_command("import_questionnaire", str(path))
    text = str(caught.value)
    assert "nothing was imported" in text
    assert "$.domains[0].questions[0].code" in text and "$.domains[1].questions[0].choices" in text
    assert not Questionnaire.objects.exists()


def test_the_import_command_loads_a_file(tmp_path):
    out = StringIO()
    call_command("import_questionnaire", str(EVERY_TYPE), stdout=out)
    assert "Imported 'every-type' as a draft (12 questions)" in out.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_questionnaire", str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match="No questionnaire has the slug"):
        call_command("export_questionnaire", "missing")


def test_export_matches_the_document_function():
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes())
    assert export("every-type") == dumps(document_to_json(questionnaire_document(questionnaire)))


def test_the_definition_is_built_in_three_queries_and_then_cached(django_assert_num_queries):
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes())
    questionnaire = Questionnaire.objects.get(pk=questionnaire.pk)
    with django_assert_num_queries(4):  # the questionnaire, its domains, questions and choices
        first = questionnaire_definition(questionnaire)
    with django_assert_num_queries(0):
        assert questionnaire_definition(questionnaire) is first


def test_unknown_keys_in_choices_and_copies_are_independent():
    document = every_type()
    bad = copy.deepcopy(document)
    bad["domains"][0]["questions"][1]["choices"][0]["colour"] = "red"
    assert ("$.domains[0].questions[1].choices[0].colour", "unknown key") in import_problems(bad)
