"""Authoring in a real browser, as a new researcher would try it after `make run`: log in, open the
demo, add a conditional question in both languages, reorder a domain, preview in French, be told
why a question of the open demo cannot be deleted, duplicate it as a draft and delete it there."""

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from questionnaires.management.commands.load_demo import DEMO_FILE as DEMO
from questionnaires.models import Questionnaire
from questionnaires.services import membership_set, questionnaire_import, questionnaire_set_status
from tests.factories import PASSWORD, UserFactory

from .test_respondent_journey import check_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_and_researcher():
    user = UserFactory(username="new-researcher")
    user.user_permissions.add(Permission.objects.get(codename="add_questionnaire"))
    demo = questionnaire_import(raw=DEMO.read_bytes(), actor=None)
    membership_set(questionnaire=demo, user=user, role="owner", actor=None)
    return questionnaire_set_status(questionnaire=demo, status="open", actor=None), user


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/author/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    expect(page.locator("h1")).to_have_text("Questionnaires you author")


def drag(page: Page, source: str, target: str) -> None:
    """Drag one element onto another with the events a hand's drag fires (a native mouse drag in
    headless Chromium depends on timing and scrolling; the page's handlers are what is tested)."""
    transfer = page.evaluate_handle("() => new DataTransfer()")
    page.dispatch_event(source, "dragstart", {"dataTransfer": transfer})
    page.dispatch_event(target, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})
    page.dispatch_event(source, "dragend", {"dataTransfer": transfer})


def domain_codes(questionnaire: Questionnaire) -> list[str]:
    return list(questionnaire.domains.order_by("position").values_list("code", flat=True))


def test_a_researcher_edits_previews_and_duplicates_the_open_demo(browser, live_server, demo_and_researcher):
    demo, user = demo_and_researcher
    page = browser.new_page()
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    log_in(page, live_server, user.username)
    page.click(f"a[href='/author/{demo.slug}/']")
    expect(page.locator("#problems")).to_contain_text("No problems")
    check_accessible(page)

    # A conditional question in both languages, at the end of domain D1.
    d1 = demo.domains.get(code="D1")
    page.select_option(f"#type-{d1.pk}", "short_text")
    page.click(f"#domain-{d1.pk} form[method=get] button")
    expect(page.locator("h1")).to_have_text("New question in D1")
    expect(page.locator("[data-for-types='number']")).to_be_hidden()  # only the settings a type uses
    check_accessible(page)
    page.fill("#id_code", "D1_NEW")
    page.fill("#id_text__en", "Which dispersal rule helps most?")
    page.fill("#id_text__fr", "Quelle règle de dispersion aide le plus ?")
    page.select_option("#id_cond_question_0", "D1_Q01")
    page.select_option("#id_cond_op_0", "equals")
    page.fill("#id_cond_value_0", "DISPERSAL")
    page.click("button:text('Save question')")
    expect(page.locator(".alert-success")).to_contain_text("Question D1_NEW saved.")
    new_question = demo.questions.get(code="D1_NEW")
    assert new_question.condition == {"question": "D1_Q01", "op": "equals", "value": "DISPERSAL"}
    assert new_question.text["fr"] == "Quelle règle de dispersion aide le plus ?"

    # Reorder a domain with its button (works without JavaScript), then drag it back.
    before = domain_codes(demo)
    d2 = demo.domains.get(code="D2")
    page.click(f"#domain-{d2.pk} button:text('Up')")
    expect(page.locator(".alert-success")).to_contain_text("New order saved.")
    moved = domain_codes(demo)
    assert moved.index("D2") == before.index("D2") - 1
    with page.expect_navigation():  # the new order is posted, then the page reloads
        drag(page, f"#domain-{d2.pk}", f"#domain-{d1.pk}")
    expect(page.locator(f"#domain-{d1.pk} + #domain-{d2.pk}")).to_have_count(1)
    assert domain_codes(demo) == before

    # Preview in French: nothing stored, the new question appears as soon as its condition holds.
    page.click("a:text('Preview in French')")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".preview-banner")).to_contain_text("Nothing you enter is stored")
    page.click("a.btn-primary")
    page.select_option('select[name="P_COUNTRY"]', "CA")
    page.check('input[name="P_LEVEL"][value="SENIOR"]')
    page.check('input[name="P_SITE"][value="CUSTODIAL"]')
    page.fill('input[name="P_NETWORK"]', "4")
    page.click("button[name=_action][value=next]")
    expect(page.locator("h1")).to_have_text(d1.title["fr"])
    follow_up = page.locator("text=Quelle règle de dispersion aide le plus ?")
    expect(follow_up).to_be_hidden()
    page.check("input[name=D1_Q01][value=DISPERSAL]")
    expect(follow_up).to_be_visible()
    from respondents.models import Answer, Response

    assert not Response.objects.exists() and not Answer.objects.exists()

    # Deleting a question of the open demo: refused, with the reason and the way out.
    page.click("a:text('Back to editing')")
    p_level = demo.questions.get(code="P_LEVEL")
    page.click(f"#question-{p_level.pk} a:text('Delete')")
    expect(page.locator("#refusal")).to_contain_text("cannot be deleted")
    expect(page.locator("#refusal")).to_contain_text("stored answers depend on it")
    check_accessible(page)

    page.click("a:text('Duplicate as a new draft')")
    page.click("button:text('Duplicate')")
    expect(page.locator(".alert-success")).to_contain_text("Duplicated as the new draft")
    copy = Questionnaire.objects.exclude(pk=demo.pk).get()
    assert copy.status == "draft"
    copied_level = copy.questions.get(code="P_LEVEL")
    page.click(f"#question-{copied_level.pk} a:text('Delete')")
    page.click("button:text('Delete question P_LEVEL')")
    expect(page.locator(".alert-success")).to_contain_text("Deleted the question P_LEVEL.")
    assert not copy.questions.filter(code="P_LEVEL").exists()
    assert demo.questions.filter(code="P_LEVEL").exists()
    for page_name in ("translations", "settings"):
        page.goto(f"{live_server.url}/author/{copy.slug}/{page_name}/")
        check_accessible(page)
    assert not [text for text in problems if "Content Security Policy" in text or "Refused" in text], problems
