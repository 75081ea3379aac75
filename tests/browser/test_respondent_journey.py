"""A seed's whole journey in headless Chromium, with and without JavaScript, checked with axe."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from respondents.models import Answer, Invitation
from respondents.services import seeds_import_csv

pytestmark = pytest.mark.django_db(transaction=True)
AXE = Axe()
SEEDS = "email,name,organisation,country,language\nana@example.gov,Ana Official,Ministry,CA,{language}\n"


def check_accessible(page: Page) -> None:
    """No serious or critical WCAG violation on the page."""
    results = AXE.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']}: {v['help']} at {[node['target'] for node in v['nodes']]}" for v in bad
    )


def invite_and_read_link(
    questionnaire, researcher, django_capture_on_commit_callbacks, live_server, language="en"
):
    with django_capture_on_commit_callbacks(execute=True):
        seeds_import_csv(questionnaire=questionnaire, text=SEEDS.format(language=language), actor=researcher)
    body = mail.outbox[-1].body
    path = re.search(r"/r/[A-Za-z0-9_-]{40,}/", body).group(0)
    return live_server.url + path


def answer_profile(page: Page) -> None:
    page.select_option('select[name="P_COUNTRY"]', "CA")
    page.check('input[name="P_LEVEL"][value="SENIOR"]')
    page.check('input[name="P_SITE"][value="CUSTODIAL"]')
    page.fill('input[name="P_PEERS"]', "4")


def journey(browser: Browser, link: str, *, javascript: bool) -> None:
    def accessible(page: Page) -> None:
        # axe runs as a script in the page: it cannot run where JavaScript is off. The pages are
        # the same markup either way, and the JavaScript journey checks every one of them.
        if javascript:
            check_accessible(page)

    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/r/$"))  # the token left the address bar
    accessible(page)
    page.click("text=I agree to take part")

    # Domain 1: a required question left empty shows the error summary.
    expect(page.locator(".progress-label")).to_have_text("Domain 1 of 2")
    accessible(page)
    page.click("text=Save and continue")
    expect(page.locator("#error-summary")).to_be_visible()
    if javascript:
        expect(page.locator("#error-summary")).to_be_focused()
    accessible(page)
    answer_profile(page)
    page.click("text=Save and continue")
    expect(page.locator(".progress-label")).to_have_text("Domain 2 of 2")

    # Leave mid-way; come back in a new browser (another device): everything saved is there.
    context.close()
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(link)
    page.click("text=Continue where you left off")
    expect(page.locator(".progress-label")).to_have_text("Domain 2 of 2")
    page.click("text=Back")
    expect(page.locator('input[name="P_PEERS"]')).to_have_value("4")
    page.click("text=Save and continue")

    # A conditional follow-up: at once with JavaScript, after saving without it.
    follow_up = page.locator("#q-D1_Q2")
    expect(follow_up).to_be_hidden()
    page.check('input[name="D1_Q1"][value="DISPERSAL"]')
    page.check('input[name="D1_Q3"][value="YES"]')
    if javascript:
        expect(follow_up).to_be_visible()
        expect(page.locator("#q-D1_Q4")).to_be_visible()
    else:
        page.select_option('select[name="D1_Q6.INTEL"]', "1")
        page.select_option('select[name="D1_Q6.TRANSFER"]', "2")
        page.check('input[name="D1_Q7.ISOLATION"][value="LOW"]')
        page.check('input[name="D1_Q7.MIXED"][value="HIGH"]')
        page.click("text=Save and continue")
        expect(page.locator(".alert-info")).to_contain_text("follow-up questions have appeared")
        expect(follow_up).to_be_visible()
    accessible(page)
    page.check('input[name="D1_Q2"][value="SA"]')
    page.fill('input[name="D1_Q4"]', "Unit X")
    if not javascript:  # D1_Q5 follows from D1_Q4: one more save brings it
        page.click("text=Save and continue")
        expect(page.locator("#q-D1_Q5")).to_be_visible()
    page.fill('textarea[name="D1_Q5"]', "Staff awareness training")
    page.select_option('select[name="D1_Q6.INTEL"]', "1")
    page.select_option('select[name="D1_Q6.TRANSFER"]', "2")
    page.check('input[name="D1_Q7.ISOLATION"][value="LOW"]')
    page.check('input[name="D1_Q7.MIXED"][value="HIGH"]')
    page.click("text=Save and continue")

    expect(page.locator("h1")).to_have_text("Review your answers")
    expect(page.locator("main")).to_contain_text("Staff awareness training")
    accessible(page)
    page.click("text=Submit my answers")
    expect(page.locator("h1")).to_contain_text("your answers have been submitted")
    accessible(page)
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_seed_journey(
    browser, live_server, open_questionnaire, researcher, django_capture_on_commit_callbacks, javascript
):
    link = invite_and_read_link(
        open_questionnaire, researcher, django_capture_on_commit_callbacks, live_server
    )
    journey(browser, link, javascript=javascript)
    invitation = Invitation.objects.get(email="ana@example.gov")
    assert invitation.status == "completed"
    answers = dict(
        Answer.objects.filter(response__invitation=invitation).values_list("question__code", "value")
    )
    assert answers["D1_Q2"] == "SA" and answers["D1_Q6"] == ["INTEL", "TRANSFER"]
    assert answers["P_PEERS"] == "4"


def test_french_respondent_sees_french(
    browser, live_server, open_questionnaire, researcher, django_capture_on_commit_callbacks
):
    link = invite_and_read_link(
        open_questionnaire, researcher, django_capture_on_commit_callbacks, live_server, language="fr"
    )
    page = browser.new_page()
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.click("form[action='/r/consent/'] button")
    expect(page.locator(".progress-label")).to_have_text("Domaine 1 sur 2")
    expect(page.locator("legend#l-P_LEVEL")).to_contain_text("Niveau")
    check_accessible(page)
    page.close()


def test_matrix_reflows_at_360_pixels(
    browser, live_server, open_questionnaire, researcher, django_capture_on_commit_callbacks
):
    link = invite_and_read_link(
        open_questionnaire, researcher, django_capture_on_commit_callbacks, live_server
    )
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(link)
    page.click("form[action='/r/consent/'] button")
    answer_profile(page)
    page.click("text=Save and continue")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, "the page scrolls sideways at 360 px"
    page.close()
