"""Exports: CSV, Excel, SPSS and the recruitment edge list; who may export what; what each cell holds."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from consultation.models import AuditEntry
from questionnaires.services import membership_set
from respondents.exports import ExportOptions, csv_chunks, export_file_build, safe_text, write_sav
from respondents.models import AnswerCopy, ExportFile, Invitation, Response
from respondents.services import response_consent, response_save_domain, seed_invite
from respondents.simulation import simulate_consultation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def answered(open_questionnaire, researcher):
    """One seed who answered the profile and gave hostile text, and one nominee of theirs."""
    invitation = seed_invite(
        questionnaire=open_questionnaire, email="a@example.gov", country="CA", actor=researcher
    )
    response = response_consent(invitation=invitation, language="en")
    result = response_save_domain(
        response=response,
        domain_code="PROFILE",
        submitted={"P_COUNTRY": ["CA"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]},
    )
    assert result.ok, result.errors
    return open_questionnaire, invitation, response


@pytest.fixture
def researcher_client(client, researcher):
    client.force_login(researcher)
    return client


def test_the_csv_has_one_row_per_respondent_named_by_pseudonyms_and_codes(answered, researcher_client):
    questionnaire, invitation, _ = answered
    response = researcher_client.post(
        f"/dashboard/{questionnaire.slug}/exports/", {"format": "csv", "responses": "all"}
    )
    assert response.status_code == 200 and response.streaming
    rows = read_csv(streamed(response))
    assert len(rows) == 1
    row = rows[0]
    assert row["respondent_id"] == invitation.label and row["seed_id"] == invitation.label
    assert row["recruiter_id"] == "" and row["wave"] == "0" and row["region"] == "North America"
    assert row["P_COUNTRY"] == "CA"
    level_value = questionnaire.questions.get(code="P_LEVEL").choices.get(code="SENIOR").value
    assert row["P_LEVEL"] == str(level_value)
    assert row["complete"] == "0" and row["completed_at"] == ""
    assert "email" not in row and "a@example.gov" not in streamed(
        researcher_client.post(
            f"/dashboard/{questionnaire.slug}/exports/", {"format": "csv", "responses": "all"}
        )
    )
    entry = AuditEntry.objects.filter(action="responses.exported").latest("id")
    assert entry.detail["format"] == "csv" and "P_LEVEL" in entry.detail["columns"]
    assert entry.detail["personal_data"] is False


def test_multiple_choice_gives_one_0_1_column_per_option_and_unanswered_is_empty(
    open_questionnaire, researcher
):
    simulate_consultation(open_questionnaire, respondents=40, seed=3)
    definition_question = open_questionnaire.questions.get(type="multiple_choice")
    options = list(definition_question.choices.filter(kind="option").values_list("code", flat=True))
    rows = read_csv("".join(csv_chunks(open_questionnaire, ExportOptions(), "en")))
    assert (
        len(rows)
        == Response.objects.filter(questionnaire=open_questionnaire, started_at__isnull=False).count()
    )
    columns = [f"{definition_question.code}_{code}" for code in options]
    assert all(column in rows[0] for column in columns)
    answered = [row for row in rows if row[columns[0]] != ""]
    assert answered, "the simulation answers the multiple choice question"
    for row in answered:
        assert {row[column] for column in columns} <= {"0", "1"}
    for row in rows:
        if row[columns[0]] == "":
            assert all(row[column] == "" for column in columns)


def test_formulas_are_neutralised_in_text_but_numbers_stay_numbers():
    assert safe_text('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    for start in ("+", "-", "@", "\t", "\r"):
        assert safe_text(f"{start}1").startswith("'")
    assert safe_text(-5) == -5 and safe_text(3.5) == 3.5
    assert safe_text("plain <b>text</b>") == "plain <b>text</b>"  # made safe per format, never HTML-escaped


def test_names_and_emails_only_with_the_permission_and_when_asked(answered, client, researcher):
    questionnaire, _, _ = answered
    client.force_login(researcher)
    url = f"/dashboard/{questionnaire.slug}/exports/"
    assert client.post(url, {"format": "csv", "responses": "all", "personal_data": "on"}).status_code == 403
    membership_set(
        questionnaire=questionnaire,
        user=researcher,
        role="owner",
        can_view_personal_data=True,
        actor=None,
    )
    client.force_login(researcher)  # a fresh request: the membership is read again
    rows = read_csv(streamed(client.post(url, {"format": "csv", "responses": "all"})))
    assert "email" not in rows[0]
    rows = read_csv(streamed(client.post(url, {"format": "csv", "responses": "all", "personal_data": "on"})))
    assert rows[0]["email"] == "a@example.gov"
    assert AuditEntry.objects.filter(action="responses.exported", detail__personal_data=True).exists()


def test_monitors_cannot_export(answered, client):
    questionnaire, _, _ = answered
    monitor = UserFactory(username="watcher")
    membership_set(questionnaire=questionnaire, user=monitor, role="monitor", actor=None)
    client.force_login(monitor)
    assert client.get(f"/dashboard/{questionnaire.slug}/exports/").status_code == 403
    assert client.post(f"/dashboard/{questionnaire.slug}/exports/", {"format": "csv"}).status_code == 403


def test_the_csv_reads_a_page_of_respondents_in_two_queries(
    open_questionnaire, django_assert_num_queries, monkeypatch
):
    import respondents.exports as exports
    from questionnaires.selectors import question_ids, questionnaire_definition

    simulate_consultation(open_questionnaire, respondents=30, seed=5)
    monkeypatch.setattr(exports, "PAGE_SIZE", 10)
    started = Response.objects.filter(questionnaire=open_questionnaire, started_at__isnull=False).count()
    questionnaire_definition(open_questionnaire), question_ids(open_questionnaire)  # cached per revision
    pages = -(-started // 10)
    with django_assert_num_queries(2 * pages + 1):  # respondents and their answers; the last page is empty
        rows = read_csv("".join(csv_chunks(open_questionnaire, ExportOptions(), "en", in_database=False)))
    assert len(rows) == started


def test_excel_has_the_responses_and_a_codebook(
    answered, researcher_client, django_capture_on_commit_callbacks
):
    questionnaire, invitation, _ = answered
    with django_capture_on_commit_callbacks(execute=True):
        response = researcher_client.post(
            f"/dashboard/{questionnaire.slug}/exports/", {"format": "xlsx", "responses": "all"}
        )
    assert response.status_code == 302
    export = ExportFile.objects.get()
    assert export.status == "ready" and export.rows == 1
    workbook = load_workbook(export.file.path, read_only=True)
    rows = list(workbook["Responses"].values)
    assert rows[0][0] == "respondent_id" and rows[1][0] == invitation.label
    codebook = {row[0]: row for row in workbook["Codebook"].values}
    assert "SENIOR" not in str(codebook["P_LEVEL"][4]) and "=" in str(codebook["P_LEVEL"][4])
    page = researcher_client.get(f"/dashboard/{questionnaire.slug}/exports/")
    assert f"/dashboard/{questionnaire.slug}/exports/{export.pk}/" in page.content.decode()
    download = researcher_client.get(f"/dashboard/{questionnaire.slug}/exports/{export.pk}/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def test_only_the_member_who_asked_downloads_the_file(answered, researcher, client):
    questionnaire, _, _ = answered
    export = ExportFile.objects.create(questionnaire=questionnaire, requested_by=researcher, format="xlsx")
    export_file_build(export.pk)
    other = UserFactory(username="colleague")
    membership_set(questionnaire=questionnaire, user=other, role="owner", actor=None)
    client.force_login(other)
    assert client.get(f"/dashboard/{questionnaire.slug}/exports/{export.pk}/").status_code == 404


def test_building_a_file_twice_does_nothing_the_second_time(answered, researcher):
    questionnaire, _, _ = answered
    export = ExportFile.objects.create(questionnaire=questionnaire, requested_by=researcher, format="xlsx")
    export_file_build(export.pk)
    export.refresh_from_db()
    first = export.file.name
    export_file_build(export.pk)
    export.refresh_from_db()
    assert export.file.name == first and export.status == "ready"


def test_spss_file_opens_with_variable_and_value_labels(answered, researcher, tmp_path):
    import pyreadstat

    questionnaire, invitation, _ = answered
    output = tmp_path / "out.sav"
    call_command("export_responses", questionnaire.slug, "--format", "sav", "--output", str(output))
    frame, meta = pyreadstat.read_sav(str(output))
    assert list(frame["respondent_id"]) == [invitation.label]
    level = questionnaire.questions.get(code="P_LEVEL")
    senior = level.choices.get(code="SENIOR")
    assert frame["P_LEVEL"][0] == senior.value
    assert meta.column_names_to_labels["P_LEVEL"] == level.text["en"]
    assert meta.variable_value_labels["P_LEVEL"][float(senior.value)] == senior.label["en"]


def test_the_edge_list_has_one_row_per_respondent_in_the_shape_rds_reads(
    open_questionnaire, researcher_client
):
    simulate_consultation(open_questionnaire, respondents=60, seed=8)
    response = researcher_client.post(
        f"/dashboard/{open_questionnaire.slug}/exports/", {"format": "edges", "responses": "all"}
    )
    rows = read_csv(streamed(response))
    started = Response.objects.filter(
        questionnaire=open_questionnaire, started_at__isnull=False
    ).select_related("invitation__nominated_by", "invitation__seed")
    assert len(rows) == started.count()
    assert list(rows[0]) == ["recruiter_id", "recruit_id", "wave", "seed_id", "network_size"]
    by_recruit = {row["recruit_id"]: row for row in rows}
    for response_row in started:
        invitation = response_row.invitation
        row = by_recruit[invitation.label]
        if invitation.wave == 0:
            assert row["recruiter_id"] == "seed" and row["seed_id"] == invitation.label
        else:
            assert row["recruiter_id"] == invitation.nominated_by.label
            assert row["seed_id"] == invitation.seed.label
        assert row["wave"] == str(invitation.wave)
    assert any(row["network_size"] for row in rows)


def test_the_command_writes_csv_and_is_audited(answered, tmp_path):
    questionnaire, invitation, _ = answered
    output = tmp_path / "out.csv"
    call_command("export_responses", questionnaire.slug, "--format", "csv", "--output", str(output))
    rows = read_csv(output.read_text(encoding="utf-8"))
    assert rows[0]["respondent_id"] == invitation.label
    entry = AuditEntry.objects.filter(action="responses.exported").latest("id")
    assert entry.actor_label == "system" and entry.detail["format"] == "csv"
    assert Invitation.objects.count() == 1


@pytest.mark.postgresql
def test_postgresql_writes_the_same_csv_as_the_python_path(answered, researcher):
    """On PostgreSQL the database pivots and writes the rows (COPY); the table is the same."""
    questionnaire, _, response = answered
    hostile = "=cmd|' /C calc'!A0"
    simulate_consultation(questionnaire, respondents=60, seed=11)
    Answer = response.answers.model
    text_answer = Answer.objects.filter(
        response__questionnaire=questionnaire, question__type="short_text"
    ).first()
    text_answer.value = hostile + ' é, "quoted"\nsecond line'
    text_answer.save()
    for options in (
        ExportOptions(),
        ExportOptions(complete_only=True),
        ExportOptions(wave=1, personal_data=True),
    ):
        in_database = "".join(csv_chunks(questionnaire, options, "en", in_database=True))
        in_python = "".join(csv_chunks(questionnaire, options, "en", in_database=False))
        assert read_csv(in_database) == read_csv(in_python)
        assert len(read_csv(in_database)) > 0 or options.wave == 1
    rows = read_csv("".join(csv_chunks(questionnaire, ExportOptions(), "en", in_database=True)))
    assert any(value.startswith("'=cmd") for row in rows for value in row.values())


def _stale_answer_copies() -> list[int]:
    """Responses whose AnswerCopy differs from their answer rows (none without answers)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT r.id FROM respondents_response r
               LEFT JOIN respondents_answercopy c ON c.response_id = r.id
               LEFT JOIN (
                   SELECT response_id, jsonb_object_agg(question_id::text, value) AS v,
                          jsonb_object_agg(question_id::text, other_text) FILTER (WHERE other_text <> '') AS o
                   FROM respondents_answer GROUP BY response_id
               ) a ON a.response_id = r.id
               WHERE c.answer_values IS DISTINCT FROM a.v OR c.other_texts IS DISTINCT FROM a.o"""
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgresql
def test_each_response_carries_a_copy_of_its_answers_whoever_writes_them(answered):
    questionnaire, _, response = answered
    Answer = response.answers.model
    assert response.answers.exists() and _stale_answer_copies() == []

    result = response_save_domain(
        response=response,
        domain_code="PROFILE",
        submitted={"P_COUNTRY": ["FR"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["4"]},
    )
    assert result.ok and _stale_answer_copies() == []
    Answer.objects.filter(response=response).update(other_text="Ministry of Justice")
    assert _stale_answer_copies() == []
    Answer.objects.filter(response=response, question__code="P_PEERS").delete()
    assert _stale_answer_copies() == []
    simulate_consultation(questionnaire, respondents=40, seed=3)  # COPY, many responses at once
    assert _stale_answer_copies() == []
    Answer.objects.filter(response=response).delete()
    assert _stale_answer_copies() == []
    assert not AnswerCopy.objects.filter(response=response).exists()
    erase = Response.objects.filter(pk__in=Answer.objects.values("response_id")).first()
    assert AnswerCopy.objects.filter(response=erase).exists()
    erase.delete()  # as erasing a respondent does: answers, then the response
    assert _stale_answer_copies() == []
    assert not AnswerCopy.objects.filter(response_id=erase.pk).exists()


def test_question_codes_never_take_an_export_columns_name(researcher, tmp_path):
    import json

    import pyreadstat

    from questionnaires.services import questionnaire_import, questionnaire_set_status
    from tests.conftest import EVERY_TYPE

    document = json.loads(EVERY_TYPE.read_text())
    document["slug"] = "clashes"
    text = json.dumps(document).replace('"P_COUNTRY"', '"country"').replace('"P_SCORE"', '"BY"')
    questionnaire = questionnaire_set_status(
        questionnaire=questionnaire_import(raw=text, actor=researcher), status="open", actor=researcher
    )
    invitation = seed_invite(
        questionnaire=questionnaire, email="a@example.gov", country="CA", actor=researcher
    )
    response = response_consent(invitation=invitation, language="en")
    submitted = {
        "country": ["FR"],
        "P_LEVEL": ["SENIOR"],
        "P_SITE": ["ADMIN"],
        "P_PEERS": ["3"],
        "BY": ["1.5"],
    }
    assert response_save_domain(response=response, domain_code="PROFILE", submitted=submitted).ok
    row = read_csv("".join(csv_chunks(questionnaire, ExportOptions(), "en", in_database=False)))[0]
    assert (row["country"], row["country_q"], row["BY_q"]) == ("CA", "FR", "1.5")
    path = tmp_path / "clashes.sav"
    write_sav(questionnaire, ExportOptions(), "en", str(path))
    frame, _ = pyreadstat.read_sav(str(path))
    assert (frame["country"][0], frame["country_q"][0], frame["BY_q"][0]) == ("CA", "FR", 1.5)


def test_excel_drops_control_characters_that_it_cannot_hold(answered, researcher):
    questionnaire, _, response = answered
    Answer = response.answers.model
    answer = Answer.objects.filter(response=response).first()
    answer.other_text = "bell\x07 and escape\x1b kept as text"
    answer.save()
    export = ExportFile.objects.create(questionnaire=questionnaire, requested_by=researcher, format="xlsx")
    export_file_build(export.pk)
    export.refresh_from_db()
    assert export.status == "ready", export.error
