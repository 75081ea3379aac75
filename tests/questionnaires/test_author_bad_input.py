"""Hostile and odd input to the authoring pages: a form error or a 4xx, never a 500, nothing saved."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from questionnaires.authoring import questionnaire_fingerprint
from questionnaires.models import Question, Questionnaire
from respondents.models import ExportFile
from tests.conftest import EVERY_TYPE

from .test_author_views import question_post_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(owner) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    return client


def condition_form(author, draft):
    question = Question.objects.get(questionnaire=draft, code="D1_Q2")
    url = f"/author/{draft.slug}/questions/{question.pk}/"
    data = question_post_data(author, url)
    for index in range(4):
        data[f"cond_question_{index}"] = ""
    data["cond_json"] = ""
    return question, url, data


@pytest.mark.parametrize("raw", ["Infinity", "-inf", "sNaN", "1e5000", "NaN", "1e20"])
def test_an_odd_number_in_a_condition_row_is_a_form_error(author, draft, raw):
    question, url, data = condition_form(author, draft)
    data.update({"cond_question_0": "P_PEERS", "cond_op_0": "gt", "cond_value_0": raw})
    response = author.post(url, data)
    assert response.status_code == 400
    assert "compare it with a number" in response.content.decode()
    before = question.condition
    question.refresh_from_db()
    assert question.condition == before


def _nested(depth: int) -> str:
    leaf = '{"question": "P_PEERS", "op": "answered"}'
    return '{"all": [' * depth + leaf + "]}" * depth


@pytest.mark.parametrize(
    "raw",
    [
        '{"question": "P_PEERS", "op": "gt", "value": NaN}',
        '{"question": "P_PEERS", "op": "gt", "value": Infinity}',
        '{"question": "P_PEERS", "op": "gt", "value": 1e400}',
        '{"question": "P_PEERS", "op": "gt", "value": ' + "1" * 5000 + "}",
        '{"op": "answered"}',
        '{"all": "P_LEVEL"}',
        _nested(2400),
    ],
)
def test_an_odd_condition_as_json_is_a_form_error(author, draft, raw):
    question, url, data = condition_form(author, draft)
    data["cond_json"] = raw
    response = author.post(url, data)
    assert response.status_code == 400
    before = question.condition
    question.refresh_from_db()
    assert question.condition == before


@pytest.mark.parametrize("data", [{"order": ["²"]}, {"move": "²:up"}, {"order": ["9" * 40]}])
def test_a_reorder_with_odd_ids_is_a_400(author, draft, data):
    assert author.post(f"/author/{draft.slug}/domains/order/", data).status_code == 400


@pytest.mark.parametrize(
    "replacement", ['"value": NaN', '"value": ' + "1" * 5000, '"value": 1e999', '"value": 99999999999']
)
def test_importing_a_definition_with_unusable_numbers_is_a_form_error(author, replacement):
    text = EVERY_TYPE.read_text().replace('"value": 1', replacement, 1)
    assert text != EVERY_TYPE.read_text()
    upload = SimpleUploadedFile("def.json", text.encode(), content_type="application/json")
    response = author.post(
        "/author/new/", {"mode": "import", "import-file": upload, "import-slug": "imported"}
    )
    assert response.status_code == 400
    assert not Questionnaire.objects.filter(slug="imported").exists()


def test_huge_ids_are_not_found(author, draft):
    big = "9" * 25
    for url in (f"/author/{draft.slug}/questions/{big}/", f"/author/{draft.slug}/domains/{big}/"):
        assert author.get(url).status_code == 404, url
    assert (
        author.post(f"/author/{draft.slug}/translations/", {f"t:question-{big}-text-en:x": "x"}).status_code
        == 400
    )


@pytest.mark.parametrize(
    "when, zone", [("9999-12-31T23:00", "America/Los_Angeles"), ("0001-01-01T00:00", "Asia/Tokyo")]
)
def test_an_extreme_date_in_the_settings_is_a_form_error(author, draft, when, zone):
    data = {
        "fingerprint": questionnaire_fingerprint(draft),
        "languages": "en, fr",
        "title__en": "T",
        "title__fr": "T",
        "time_zone": zone,
        "nomination_quota": "3",
        "closes_at": when,
    }
    response = author.post(f"/author/{draft.slug}/settings/", data)
    assert response.status_code == 400
    assert "between the years 2000 and 2200" in response.content.decode()


def test_an_export_file_missing_from_the_shared_store_is_not_found(author, draft, owner):
    export = ExportFile.objects.create(
        questionnaire=draft, requested_by=owner, format="xlsx", status="ready", file="exports/elsewhere.xlsx"
    )
    response = author.get(f"/dashboard/{draft.slug}/exports/{export.pk}/")
    assert response.status_code == 404
