"""The simulator writes consultations the rest of the platform reads as real ones."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from questionnaires.engine.answers import clean_answer, submitted_for
from questionnaires.selectors import questionnaire_definition
from questionnaires.services import country_codes
from respondents import simulation
from respondents.dashboard import dashboard
from respondents.models import Answer, Invitation, Response, Selection
from respondents.simulation import simulate_consultation

pytestmark = pytest.mark.django_db


def test_a_simulated_consultation_has_chains_answers_and_reminders(open_questionnaire):
    assert simulate_consultation(open_questionnaire, respondents=300, seed=3) == 300
    invitations = Invitation.objects.filter(questionnaire=open_questionnaire)
    assert invitations.filter(wave=0).exists() and invitations.filter(wave__gte=2).exists()
    assert len(set(invitations.values_list("country", flat=True))) >= 10
    for nominee in invitations.filter(wave__gt=0).select_related("nominated_by"):
        assert nominee.wave == nominee.nominated_by.wave + 1
        assert nominee.seed_id == (nominee.nominated_by.seed_id or nominee.nominated_by_id)
    completed = invitations.filter(status="completed").count()
    assert completed == Response.objects.filter(submitted_at__isnull=False).count() > 0
    assert invitations.filter(reminders_sent__gt=0).exists()
    figures = dashboard(open_questionnaire)
    assert figures.total.invited == 300 and figures.total.completed == completed
    now = timezone.now()
    for invitation in invitations:
        moments = [
            invitation.created_at,
            invitation.emailed_at,
            invitation.consented_at,
            invitation.started_at,
            invitation.completed_at,
        ]
        known = [moment for moment in moments if moment is not None]
        assert known == sorted(known) and known[-1] <= now, invitation.label


def test_every_simulated_answer_is_one_the_engine_accepts(open_questionnaire):
    simulate_consultation(open_questionnaire, respondents=60, seed=3)
    definition = questionnaire_definition(open_questionnaire)
    known = country_codes()
    for code, value in Answer.objects.values_list("question__code", "value"):
        question = definition.question(code)
        assert clean_answer(question, submitted_for(question, value), countries=known).value == value, code


def test_the_same_seed_gives_the_same_consultation(open_questionnaire, questionnaire):
    questionnaire.languages = open_questionnaire.languages
    simulate_consultation(open_questionnaire, respondents=40, seed=5)
    first = list(
        Invitation.objects.filter(questionnaire=open_questionnaire).values_list("country", "wave", "status")
    )
    Invitation.objects.filter(questionnaire=open_questionnaire).update(nominated_by=None, seed=None, wave=0)
    Invitation.objects.filter(questionnaire=open_questionnaire).delete()
    simulate_consultation(open_questionnaire, respondents=40, seed=5)
    again = list(
        Invitation.objects.filter(questionnaire=open_questionnaire).values_list("country", "wave", "status")
    )
    assert again == first


def test_the_command_fills_only_an_empty_questionnaire_when_asked(open_questionnaire, capsys):
    call_command("simulate_consultation", open_questionnaire.slug, "--respondents", "10", "--if-empty")
    call_command("simulate_consultation", open_questionnaire.slug, "--respondents", "10", "--if-empty")
    assert Invitation.objects.count() == 10
    assert "already has invitations: nothing simulated" in capsys.readouterr().out


def _keys_and_indexes() -> list[tuple[str, str]]:
    from django.db import connection

    tables = [model._meta.db_table for model in simulation.FILLED]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s)"
            " UNION ALL SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1, 2",
            [tables, tables],
        )
        return cursor.fetchall()


def _consultation(questionnaire) -> list[tuple]:
    return list(
        Answer.objects.filter(response__questionnaire=questionnaire)
        .order_by("response__invitation__number", "question__code")
        .values_list(
            "response__invitation__number",
            "response__invitation__nominated_by__number",
            "question__code",
            "value",
        )
    )


@pytest.mark.postgresql
def test_a_large_run_writes_the_same_rows_and_puts_back_every_key_and_index(open_questionnaire, monkeypatch):
    simulate_consultation(open_questionnaire, respondents=120, seed=7)
    row_by_row = _consultation(open_questionnaire)
    Invitation.objects.filter(questionnaire=open_questionnaire).update(nominated_by=None, seed=None, wave=0)
    Invitation.objects.filter(questionnaire=open_questionnaire).delete()
    before = _keys_and_indexes()
    simulate_consultation(open_questionnaire, respondents=120, seed=7, bulk_load=True)

    assert _consultation(open_questionnaire) == row_by_row
    assert _keys_and_indexes() == before
    assert Selection.objects.filter(response__questionnaire=open_questionnaire).exists()


@pytest.mark.postgresql
def test_a_bulk_load_with_a_row_that_breaks_a_key_is_rolled_back_whole(open_questionnaire, monkeypatch):
    before = _keys_and_indexes()
    write = simulation._write

    def with_a_stray_answer(questionnaire, definition, ids, people, rng):
        write(questionnaire, definition, ids, people, rng)
        simulation._insert(
            Answer,
            ("response", "question", "value", "other_text", "number", "saved_at"),
            [(10**12, next(iter(ids.values())), "x", "", None, timezone.now())],
        )

    monkeypatch.setattr(simulation, "_write", with_a_stray_answer)
    with pytest.raises(IntegrityError):
        simulate_consultation(open_questionnaire, respondents=20, seed=7, bulk_load=True)

    assert not Invitation.objects.filter(questionnaire=open_questionnaire).exists()
    assert not Answer.objects.exists()
    assert _keys_and_indexes() == before
