"""The authoring pages: what researchers see and what each form does, including refusals."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from consultation.models import AuditEntry
from questionnaires.authoring import (
    domain_fingerprint,
    question_fingerprint,
    questionnaire_fingerprint,
    text_fingerprint,
)
from questionnaires.management.commands.load_demo import DEMO_FILE as DEMO
from questionnaires.models import ConsentVersion, Domain, Question, Questionnaire
from questionnaires.services import membership_set, questionnaire_import, questionnaire_set_status
from tests.conftest import EVERY_TYPE
from tests.factories import UserFactory

DATA = Path(__file__).parent / "data"

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(owner):
    questionnaire = questionnaire_import(raw=DEMO.read_bytes(), actor=owner)
    return questionnaire_set_status(questionnaire=questionnaire, status="open", actor=owner)


@pytest.fixture
def author(client: Client, owner) -> Client:
    client.force_login(owner)
    return client


def html_of(response) -> str:
    return response.content.decode()


def question_post_data(client: Client, url: str) -> dict[str, str | list[str]]:
    """What the browser would send for the question form as it is shown (every field as rendered)."""
    html = html_of(client.get(url))
    form = html[html.index('id="question-form"') :]
    form = form[: form.index("</form>")]
    data: dict[str, list[str]] = {}
    for tag in re.finditer(r"<(input|select|textarea)\b([^>]*)>(.*?)(?=<)", form, re.S):
        kind, attributes, inner = tag.groups()
        name = re.search(r'\bname="([^"]+)"', attributes)
        if name is None or " disabled" in attributes:
            continue
        name = name.group(1)
        if kind == "input":
            input_type = (re.search(r'\btype="([^"]+)"', attributes) or [None, "text"])[1]
            if input_type == "checkbox":
                if " checked" in attributes:
                    data.setdefault(name, []).append("on")
                continue
            if input_type == "submit":
                continue
            value = re.search(r'\bvalue="([^"]*)"', attributes)
            data.setdefault(name, []).append(_unescape(value.group(1)) if value else "")
        elif kind == "textarea":
            data.setdefault(name, []).append(_unescape(inner.lstrip("\n")))
        else:
            select = form[tag.start() : form.index("</select>", tag.start())]
            chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select)
            data.setdefault(name, []).append(_unescape(chosen.group(1)) if chosen else "")
    return {name: values if len(values) > 1 else values[0] for name, values in data.items()}


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


# --- The list and creating ---------------------------------------------------------------------


def test_the_list_shows_what_the_user_authors_with_counts_in_a_constant_number_of_queries(
    author, owner, draft, opened, django_assert_max_num_queries
):
    monitored = questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=None, slug="someone-elses")
    membership_set(questionnaire=monitored, user=owner, role="monitor", actor=None)
    with django_assert_max_num_queries(4):
        html = html_of(author.get("/author/"))
    assert draft.slug in html and opened.slug in html
    assert "someone-elses" not in html  # a monitor does not author
    assert "New questionnaire" in html


def test_creating_a_blank_questionnaire_makes_the_creator_its_owner(author, owner):
    response = author.post(
        "/author/new/",
        {
            "mode": "blank",
            "blank-title": "Staff survey",
            "blank-slug": "staff-survey",
            "blank-languages": "en, fr",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/author/staff-survey/"
    questionnaire = Questionnaire.objects.get(slug="staff-survey")
    assert questionnaire.status == "draft" and questionnaire.languages == ["en", "fr"]
    assert questionnaire.memberships.get().user == owner
    html = html_of(author.get(response["Location"]))
    assert "a questionnaire needs at least one domain" in html


def test_creating_with_a_taken_address_or_bad_languages_is_a_form_error(author, draft):
    response = author.post(
        "/author/new/",
        {"mode": "blank", "blank-title": "X", "blank-slug": draft.slug, "blank-languages": "en, english"},
    )
    assert response.status_code == 400
    assert "Not a language code" in html_of(response)
    response = author.post(
        "/author/new/",
        {"mode": "blank", "blank-title": "X", "blank-slug": draft.slug, "blank-languages": "en"},
    )
    assert response.status_code == 400
    assert "already exists" in html_of(response)
    assert Questionnaire.objects.count() == 1


def test_importing_a_file_with_problems_lists_them_and_creates_nothing(author):
    document = json.loads(EVERY_TYPE.read_text())
    document["domains"][0]["questions"][0]["type"] = "essay"
    upload = SimpleUploadedFile("q.json", json.dumps(document).encode(), content_type="application/json")
    response = author.post(
        "/author/new/", {"mode": "import", "import-file": upload, "import-slug": "imported"}
    )
    assert response.status_code == 400
    assert "unknown question type" in html_of(response)
    assert not Questionnaire.objects.exists()
    good = SimpleUploadedFile("q.json", EVERY_TYPE.read_bytes(), content_type="application/json")
    response = author.post("/author/new/", {"mode": "import", "import-file": good, "import-slug": "imported"})
    assert response.status_code == 302
    assert Questionnaire.objects.filter(slug="imported").exists()


def test_creating_needs_the_site_permission(client, draft):
    researcher = UserFactory(username="writer")
    membership_set(questionnaire=draft, user=researcher, role="researcher", actor=None)
    client.force_login(researcher)
    assert client.get("/author/new/").status_code == 403
    assert "New questionnaire" not in html_of(client.get("/author/"))


def test_copying_offers_only_questionnaires_the_user_authors(author, owner, draft):
    other = questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=None, slug="not-mine")
    response = author.post("/author/new/", {"mode": "copy", "copy-source": other.pk, "copy-slug": "stolen"})
    assert response.status_code == 400
    assert not Questionnaire.objects.filter(slug="stolen").exists()
    response = author.post("/author/new/", {"mode": "copy", "copy-source": draft.pk, "copy-slug": "mine-v2"})
    assert response.status_code == 302
    assert Questionnaire.objects.get(slug="mine-v2").questions.count() == draft.questions.count()


# --- The outline and validation panel ------------------------------------------------------------


def test_the_outline_lists_domains_and_questions_in_a_constant_number_of_queries(
    author, opened, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12) as small:
        author.get(f"/author/{opened.slug}/")
    questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=None, slug="unrelated")
    # Twice the questions: the same number of queries.
    from questionnaires.authoring import DomainInput, domain_save

    for index in range(3):
        Questionnaire.objects.filter(pk=opened.pk).update(status="draft")
        opened.refresh_from_db()
        domain = domain_save(
            questionnaire=opened,
            domain=None,
            data=DomainInput(code=f"EXTRA{index}", title={"en": "Extra", "fr": "Extra"}),
            fingerprint=None,
            actor=None,
        )
        Question.objects.create(
            questionnaire=opened, domain=domain, code=f"EXTRA{index}_Q", type="short_text", text={"en": "?"}
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = html_of(author.get(f"/author/{opened.slug}/"))
    assert "EXTRA2_Q" in html


def test_the_validation_panel_names_each_problem_with_a_link_to_fix_it(author, draft):
    question = draft.questions.get(code="D1_Q3")
    Question.objects.filter(pk=question.pk).update(text={"en": "English only"})
    Questionnaire.objects.filter(pk=draft.pk).update(closes_at=None, revision=draft.revision + 1)
    html = html_of(author.get(f"/author/{draft.slug}/"))
    assert f'href="/author/{draft.slug}/questions/{question.pk}/"' in html
    assert "Question D1_Q3" in html and "missing translation (fr)" in html


# --- Domains ------------------------------------------------------------------------------------


def test_adding_a_domain_to_a_draft_puts_it_at_the_end(author, draft):
    response = author.post(
        f"/author/{draft.slug}/domains/new/",
        {"code": "LAST", "title__en": "Last", "title__fr": "Dernier", "cond_match": "all"},
    )
    assert response.status_code == 302
    codes = list(draft.domains.order_by("position").values_list("code", flat=True))
    assert codes[-1] == "LAST"


def test_an_open_questionnaire_refuses_a_new_domain_and_says_why(author, opened):
    response = author.get(f"/author/{opened.slug}/domains/new/", follow=True)
    assert "Domains cannot be added after launch" in html_of(response)
    count = opened.domains.count()
    response = author.post(f"/author/{opened.slug}/domains/new/", {"code": "NEW", "title__en": "N"})
    assert response.status_code == 409
    assert opened.domains.count() == count


def test_a_domain_of_another_questionnaire_is_not_found(author, draft, opened):
    foreign = opened.domains.first()
    assert author.get(f"/author/{draft.slug}/domains/{foreign.pk}/").status_code == 404
    title = foreign.title
    response = author.post(
        f"/author/{draft.slug}/domains/{foreign.pk}/",
        {"code": foreign.code, "title__en": "Hijacked", "fingerprint": domain_fingerprint(foreign)},
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.title == title


def test_a_stale_domain_form_saves_nothing_and_says_so(author, draft):
    domain = draft.domains.order_by("position").first()
    stale = domain_fingerprint(domain)
    Domain.objects.filter(pk=domain.pk).update(title={"en": "Changed in another tab", "fr": "Autre onglet"})
    response = author.post(
        f"/author/{draft.slug}/domains/{domain.pk}/",
        {"code": domain.code, "title__en": "Mine", "title__fr": "Le mien", "fingerprint": stale},
        follow=True,
    )
    assert "was changed elsewhere" in html_of(response)
    domain.refresh_from_db()
    assert domain.title["en"] == "Changed in another tab"


def test_reordering_domains_with_the_buttons_and_with_a_full_order(author, opened):
    ids = list(opened.domains.order_by("position").values_list("pk", flat=True))
    response = author.post(f"/author/{opened.slug}/domains/order/", {"move": f"{ids[-1]}:up"})
    assert response.status_code == 302
    assert list(opened.domains.order_by("position").values_list("pk", flat=True)) == [
        *ids[:-2],
        ids[-1],
        ids[-2],
    ]
    response = author.post(
        f"/author/{opened.slug}/domains/order/", {"order": ids}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 204
    assert list(opened.domains.order_by("position").values_list("pk", flat=True)) == ids


def test_a_reorder_naming_unknown_ids_is_a_400_and_moves_nothing(author, draft, opened):
    ids = list(draft.domains.order_by("position").values_list("pk", flat=True))
    foreign = opened.domains.first().pk
    response = author.post(f"/author/{draft.slug}/domains/order/", {"order": [*ids[:-1], foreign]})
    assert response.status_code == 400
    assert "unknown ids" in html_of(response)
    response = author.post(f"/author/{draft.slug}/domains/order/", {"move": f"{foreign}:up"})
    assert response.status_code == 400
    assert (
        author.post(f"/author/{draft.slug}/domains/order/", {"order": ["1; DROP TABLE"]}).status_code == 400
    )
    assert list(draft.domains.order_by("position").values_list("pk", flat=True)) == ids


def test_a_reorder_that_would_make_a_condition_look_forward_is_refused(author, opened):
    ids = list(opened.domains.order_by("position").values_list("pk", flat=True))
    response = author.post(
        f"/author/{opened.slug}/domains/order/", {"order": list(reversed(ids))}, follow=True
    )
    assert "comes after it" in html_of(response)
    assert list(opened.domains.order_by("position").values_list("pk", flat=True)) == ids


# --- Questions ----------------------------------------------------------------------------------


def test_every_question_form_saved_unchanged_changes_nothing(author, draft):
    """The forms round-trip every type and option: the definition is the same after saving each one."""
    from questionnaires.definition_format import document_to_json
    from questionnaires.selectors import questionnaire_document

    before = document_to_json(questionnaire_document(draft))
    for question in draft.questions.all():
        url = f"/author/{draft.slug}/questions/{question.pk}/"
        response = author.post(url, question_post_data(author, url))
        assert response.status_code == 302, (question.code, html_of(response)[:3000])
    assert document_to_json(questionnaire_document(draft)) == before


def test_adding_a_conditional_question_in_both_languages_to_the_open_demo(author, opened):
    domain = opened.domains.order_by("position")[1]
    earlier = opened.questions.get(code="P_LEVEL")
    response = author.post(
        f"/author/{opened.slug}/domains/{domain.pk}/questions/new/",
        {
            "code": "NEW_FOLLOW_UP",
            "type": "single_choice",
            "domain": domain.pk,
            "text__en": "Do you lead a team?",
            "text__fr": "Dirigez-vous une équipe ?",
            "cond_match": "all",
            "cond_question_0": "P_LEVEL",
            "cond_op_0": "equals",
            "cond_value_0": earlier.choices.first().code,
            "options-TOTAL_FORMS": "2",
            "options-INITIAL_FORMS": "0",
            "options-0-code": "YES",
            "options-0-value": "1",
            "options-0-label__en": "Yes",
            "options-0-label__fr": "Oui",
            "options-1-code": "NO",
            "options-1-value": "0",
            "options-1-label__en": "No",
            "options-1-label__fr": "Non",
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, html_of(response)[:3000]
    question = opened.questions.get(code="NEW_FOLLOW_UP")
    assert question.condition == {
        "question": "P_LEVEL",
        "op": "equals",
        "value": earlier.choices.first().code,
    }
    assert list(question.choices.values_list("code", flat=True)) == ["YES", "NO"]
    assert AuditEntry.objects.filter(action="questionnaire.edited", target_id=str(question.pk)).exists()


def test_a_condition_on_a_later_question_is_a_form_error_and_saves_nothing(author, draft):
    question = draft.questions.order_by("domain__position", "position").first()
    later = draft.questions.order_by("domain__position", "position").last()
    url = f"/author/{draft.slug}/questions/{question.pk}/"
    data = question_post_data(author, url)
    data["cond_json"] = json.dumps({"question": later.code, "op": "answered"})
    response = author.post(url, data)
    assert response.status_code == 400
    assert "does not come before this point" in html_of(response)
    question.refresh_from_db()
    assert question.condition is None
    data["cond_json"] = json.dumps({"question": question.code, "op": "answered"})
    assert author.post(url, data).status_code == 400  # its own answer: a cycle
    data["cond_json"] = "{not json"
    assert "Not valid JSON" in html_of(author.post(url, data))


def test_an_open_questionnaire_keeps_codes_types_and_choices(author, opened):
    question = opened.questions.get(code="P_LEVEL")
    choices = list(question.choices.values_list("code", "value"))
    url = f"/author/{opened.slug}/questions/{question.pk}/"
    html = html_of(author.get(url))
    assert "stored answers depend on the code" in html
    data = question_post_data(author, url)
    data["code"], data["type"] = "RENAMED", "multiple_choice"  # disabled fields: ignored
    data["options-0-DELETE"] = "on"
    response = author.post(url, data)
    assert response.status_code == 400
    assert "cannot be deleted" in html_of(response)
    question.refresh_from_db()
    assert question.code == "P_LEVEL" and question.type == "single_choice"
    assert list(question.choices.values_list("code", "value")) == choices


def test_a_wording_fix_on_the_open_questionnaire_is_audited_with_before_and_after(author, opened):
    question = opened.questions.get(code="P_LEVEL")
    url = f"/author/{opened.slug}/questions/{question.pk}/"
    data = question_post_data(author, url)
    old = data["text__en"]
    data["text__en"] = old + " (fixed)"
    assert author.post(url, data).status_code == 302
    entry = AuditEntry.objects.filter(action="questionnaire.edited", target_id=str(question.pk)).latest("id")
    assert entry.detail["launched"] is True
    assert entry.detail["changes"]["text"]["before"]["en"] == old
    assert entry.detail["changes"]["text"]["after"]["en"] == old + " (fixed)"


def test_deleting_a_question_of_an_open_questionnaire_is_refused_with_the_reason(author, opened):
    question = opened.questions.get(code="P_LEVEL")
    url = f"/author/{opened.slug}/questions/{question.pk}/delete/"
    html = html_of(author.get(url))
    assert "cannot be deleted" in html and "Duplicate as a new draft" in html
    assert "<button" not in html.split('id="refusal"')[1].split("</main>")[0]
    response = author.post(url)
    assert response.status_code == 409
    assert Question.objects.filter(pk=question.pk).exists()


def test_deleting_a_question_of_a_draft_asks_then_deletes(author, draft):
    question = draft.questions.order_by("domain__position", "position").last()
    url = f"/author/{draft.slug}/questions/{question.pk}/delete/"
    assert "This cannot be undone" in html_of(author.get(url))
    assert author.post(url).status_code == 302
    assert not Question.objects.filter(pk=question.pk).exists()


def test_a_stale_question_form_saves_nothing(author, draft):
    question = draft.questions.order_by("domain__position", "position").first()
    url = f"/author/{draft.slug}/questions/{question.pk}/"
    data = question_post_data(author, url)
    assert data["fingerprint"] == question_fingerprint(question, list(question.choices.all()))
    Question.objects.filter(pk=question.pk).update(required=not question.required)
    data["text__en"] = "Mine"
    response = author.post(url, data, follow=True)
    assert "was changed elsewhere" in html_of(response)
    question.refresh_from_db()
    assert question.text["en"] != "Mine"


# --- Translations -------------------------------------------------------------------------------


def test_translations_side_by_side_flag_and_fill_a_missing_one(author, draft):
    question = draft.questions.order_by("domain__position", "position").first()
    domain = question.domain
    Question.objects.filter(pk=question.pk).update(text={"en": "English only"})
    Questionnaire.objects.filter(pk=draft.pk).update(revision=draft.revision + 1)
    overview = html_of(author.get(f"/author/{draft.slug}/translations/"))
    assert "1 missing translation" in overview
    assert f'href="?section={domain.code}">Domain {domain.code} <span class="badge' in overview
    html = html_of(author.get(f"/author/{draft.slug}/translations/?section={domain.code}&missing=1"))
    field = f"t:question-{question.pk}-text-fr:{text_fingerprint('')}"
    assert f'name="{field}"' in html
    response = author.post(f"/author/{draft.slug}/translations/?section={domain.code}", {field: "Français"})
    assert response.status_code == 302 and response["Location"].endswith(f"?section={domain.code}")
    question.refresh_from_db()
    assert question.text == {"en": "English only", "fr": "Français"}
    assert "No translation is missing" in html_of(author.get(f"/author/{draft.slug}/translations/"))


def test_the_demos_translations_fit_in_one_request_per_section_and_save_unchanged(
    author, opened, django_assert_max_num_queries
):
    from django.conf import settings

    for section in ["", *opened.domains.values_list("code", flat=True)]:
        html = html_of(author.get(f"/author/{opened.slug}/translations/?section={section}"))
        fields = {
            name: unescape(inline or block.lstrip("\n"))
            for name, inline, block in re.findall(
                r'name="(t:[^"]+)"(?:[^>]*?value="([^"]*)")?[^>]*>(?:([^<]*)</textarea>)?', html
            )
        }
        assert 0 < len(fields) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        with django_assert_max_num_queries(12):
            response = author.post(f"/author/{opened.slug}/translations/?section={section}", fields)
        assert response.status_code == 302


def test_translations_of_another_questionnaire_are_refused(author, draft, opened):
    foreign = opened.questions.first()
    field = f"t:question-{foreign.pk}-text-fr:{text_fingerprint(foreign.text['fr'])}"
    response = author.post(f"/author/{draft.slug}/translations/", {field: "Piraté"}, follow=True)
    assert "does not have" in html_of(response)
    foreign.refresh_from_db()
    assert foreign.text["fr"] != "Piraté"
    assert author.post(f"/author/{draft.slug}/translations/", {"t:nonsense": "x"}).status_code == 400
    assert (
        author.post(f"/author/{draft.slug}/translations/", {"t:question-²-text-fr:x": "x"}).status_code == 400
    )


def test_a_language_with_a_region_can_be_translated(author, draft):
    Questionnaire.objects.filter(pk=draft.pk).update(languages=["en", "pt-br"])
    domain = draft.domains.order_by("position").first()
    field = f"t:domain-{domain.pk}-title-pt-br:{text_fingerprint('')}"
    response = author.post(f"/author/{draft.slug}/translations/?section={domain.code}", {field: "Perfil"})
    assert response.status_code == 302
    domain.refresh_from_db()
    assert domain.title["pt-br"] == "Perfil"


def test_a_new_consent_text_gets_a_new_version(author, opened):
    current = opened.consent_text.get("en", "")
    field = f"t:questionnaire-{opened.pk}-consent_text-en:{text_fingerprint(current)}"
    author.post(f"/author/{opened.slug}/translations/", {field: current + " Updated."})
    opened.refresh_from_db()
    assert opened.consent_text["en"].endswith("Updated.")
    assert ConsentVersion.objects.filter(questionnaire=opened, version=opened.consent_version).exists()


# --- Settings and duplicating -------------------------------------------------------------------


def test_settings_refuse_a_closing_date_before_the_opening_date(author, draft):
    response = author.post(
        f"/author/{draft.slug}/settings/",
        {
            "fingerprint": questionnaire_fingerprint(draft),
            "languages": "en, fr",
            "title__en": "T",
            "title__fr": "T",
            "opens_at": "2027-03-01T09:00",
            "closes_at": "2027-02-01T09:00",
            "time_zone": "Europe/Paris",
            "nomination_quota": "3",
        },
    )
    assert response.status_code == 400
    assert "The closing date must come after the opening date." in html_of(response)
    draft.refresh_from_db()
    assert draft.title["en"] != "T"


def test_settings_save_dates_in_the_questionnaires_time_zone(author, draft):
    response = author.post(
        f"/author/{draft.slug}/settings/",
        {
            "fingerprint": questionnaire_fingerprint(draft),
            "languages": "en, fr",
            "title__en": "New title",
            "title__fr": "Nouveau titre",
            "opens_at": "2027-03-01T09:00",
            "closes_at": "2027-04-01T09:00",
            "time_zone": "America/Toronto",
            "nomination_quota": "2",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == {"en": "New title", "fr": "Nouveau titre"}
    assert draft.opens_at.isoformat() == "2027-03-01T14:00:00+00:00"
    assert draft.nomination_quota == 2


def test_duplicating_the_open_demo_gives_an_editable_draft(author, opened):
    response = author.post(
        f"/author/{opened.slug}/duplicate/", {"copy-source": opened.pk, "copy-slug": "demo-v2"}
    )
    assert response.status_code == 302 and response["Location"] == "/author/demo-v2/"
    copy = Questionnaire.objects.get(slug="demo-v2")
    assert copy.status == "draft" and not copy.invitations.exists()
    question = copy.questions.get(code="D1_Q01")
    response = author.post(f"/author/demo-v2/questions/{question.pk}/delete/")
    assert response.status_code == 409 and "use question D1_Q01" in html_of(response)  # a condition needs it
    leaf = copy.questions.order_by("domain__position", "position").last()
    assert author.post(f"/author/demo-v2/questions/{leaf.pk}/delete/").status_code == 302


# --- Preview ------------------------------------------------------------------------------------


def test_preview_walks_the_questionnaire_in_french_and_stores_nothing(
    author, opened, django_assert_num_queries
):
    from respondents.models import Answer, Response

    response = author.get(f"/author/{opened.slug}/preview/fr/")
    assert response.status_code == 200 and response["Content-Language"] == "fr"
    assert "Aperçu" in html_of(response) or "Preview" in html_of(response)
    page = author.get(f"/author/{opened.slug}/preview/fr/1/")
    html = html_of(page)
    assert 'name="_preview_state"' in html and "page-rules" in html
    state = re.search(r'name="_preview_state" value="([^"]+)"', html).group(1)
    response = author.post(
        f"/author/{opened.slug}/preview/fr/1/", {"_preview_state": state, "_action": "next", "_shown": ""}
    )
    assert response.status_code == 400  # required questions, shown with the page's errors
    assert "Cette question" in html_of(response) or "needs an answer" in html_of(response)
    assert not Response.objects.exists() and not Answer.objects.exists()


def test_a_tampered_preview_state_is_a_400(author, opened):
    response = author.post(f"/author/{opened.slug}/preview/en/1/", {"_preview_state": "forged:value"})
    assert response.status_code == 400
    assert author.get(f"/author/{opened.slug}/preview/de/").status_code == 404
