"""Text that researchers and respondents write is inert everywhere it is shown: a question text, a
choice label and an answer holding script and an image with an onerror handler are shown as text on
the respondent pages, the authoring pages, the dashboard, results, open answers and the report, and
no dialog ever opens in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from questionnaires.models import Choice, Question, Questionnaire
from respondents.models import Answer
from respondents.services import response_consent, response_save_domain, seed_invite

from .test_respondent_journey import researcher_context

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>alert('script')</script>"
IMAGE = '"><img src=x onerror=alert("img")>'


def plant(questionnaire: Questionnaire, researcher) -> str:
    """Hostile text in a question, a choice label and an open answer; returns the personal link."""
    question = Question.objects.get(questionnaire=questionnaire, code="P_LEVEL")
    question.text = {"en": f"Level {SCRIPT} {IMAGE}", "fr": f"Niveau {SCRIPT}"}
    question.save()
    choice = Choice.objects.get(question=question, code="SENIOR")
    choice.label = {"en": f"Senior {IMAGE}", "fr": f"Cadre {IMAGE}"}
    choice.save()
    Questionnaire.objects.filter(pk=questionnaire.pk).update(revision=questionnaire.revision + 1)
    questionnaire.refresh_from_db()
    invitation = seed_invite(
        questionnaire=questionnaire, email="x@example.gov", country="CA", actor=researcher
    )
    response = response_consent(invitation=invitation, language="en")
    profile = {"P_COUNTRY": ["CA"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]}
    assert response_save_domain(response=response, domain_code="PROFILE", submitted=profile).ok
    answers = {
        "D1_Q1": ["DISPERSAL"],
        "D1_Q3": ["YES"],
        "D1_Q4": [f"{SCRIPT} {IMAGE}"],
        "D1_Q7.ISOLATION": ["LOW"],
        "D1_Q7.MIXED": ["HIGH"],
    }
    assert response_save_domain(response=response, domain_code="D1", submitted=answers).ok
    assert any("onerror" in str(value) for value in Answer.objects.values_list("value", flat=True))
    return f"/r/{invitation.token}/"


def visit(page: Page, url: str, dialogs: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page.locator("img[src='x']").count() == 0, url
    assert not dialogs, f"{url}: {dialogs}"


def test_hostile_text_is_inert_on_every_page(browser, live_server, open_questionnaire, researcher):
    link = plant(open_questionnaire, researcher)
    slug = open_questionnaire.slug
    dialogs: list[str] = []

    respondent = browser.new_page()
    respondent.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    visit(respondent, live_server.url + link, dialogs)
    for path in ("/r/page/1/", "/r/page/2/", "/r/review/"):
        visit(respondent, live_server.url + path, dialogs)
    assert "<script>alert('script')</script>" in respondent.content().replace("&lt;", "<").replace(
        "&gt;", ">"
    )

    question = Question.objects.get(questionnaire=open_questionnaire, code="P_LEVEL")
    with researcher_context(browser, live_server, researcher) as context:
        staff = context.new_page()
        staff.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for path in (
            f"/q/{slug}/",
            f"/author/{slug}/",
            f"/author/{slug}/questions/{question.pk}/",
            f"/author/{slug}/translations/?section=PROFILE",
            f"/author/{slug}/preview/en/1/",
            f"/dashboard/{slug}/",
            f"/dashboard/{slug}/results/?domain=PROFILE",
            f"/dashboard/{slug}/results/?domain=D1",
            f"/dashboard/{slug}/results/open/D1_Q4/",
            f"/dashboard/{slug}/report/",
        ):
            visit(staff, live_server.url + path, dialogs)
        assert IMAGE in staff.locator("main").inner_text() or "onerror" in staff.locator("main").inner_text()
