"""A seed's whole journey in headless Chromium, with and without JavaScript, checked with axe."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from respondents.models import Answer, Invitation, Nomination
from respondents.services import seed_invite, seeds_import_csv

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
    if javascript:
        # The save answered with the next page, which put its own address in the address bar: a
        # reload and the browser's Back button fetch pages instead of sending a form again.
        expect(page).to_have_url(re.compile(r"/r/page/2/$"))
        page.reload()
        expect(page.locator(".progress-label")).to_have_text("Domain 2 of 2")
        page.go_back()
        expect(page.locator('input[name="P_PEERS"]')).to_have_value("4")
        page.go_forward()
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
    if javascript:  # the thank-you page answered Submit, under its own address
        expect(page).to_have_url(re.compile(r"/r/thanks/$"))
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


def researcher_context(browser: Browser, live_server, user):
    """A browser context logged in as `user`: the session is made by the test client, then shared."""
    client = Client()
    client.force_login(user)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def fill_peer(page: Page, row: int, *, email: str, name: str = "", country: str = "", language: str = "en"):
    prefix = f"peer-{row}-"
    page.fill(f'input[name="{prefix}name"]', name)
    page.fill(f'input[name="{prefix}email"]', email)
    page.select_option(f'select[name="{prefix}country"]', country)
    page.select_option(f'select[name="{prefix}language"]', language)


def test_seed_nominates_a_colleague_who_answers_in_turn(
    browser, live_server, open_questionnaire, researcher, django_capture_on_commit_callbacks
):
    link = invite_and_read_link(
        open_questionnaire, researcher, django_capture_on_commit_callbacks, live_server
    )
    # Someone the seed will suggest is already invited: the refusal must stay quiet.
    taken = seed_invite(questionnaire=open_questionnaire, email="taken@example.gov", actor=researcher)
    journey(browser, link, javascript=True)
    ana = Invitation.objects.get(email="ana@example.gov")
    assert ana.status == "completed"

    # The seed comes back with the link: a submitted response lands on the thank-you page.
    with browser.new_context() as context:  # closed even when an assertion fails
        page = context.new_page()
        page.goto(link)
        expect(page).to_have_url(re.compile(r"/r/thanks/$"))
        expect(page.locator("#nominate-heading")).to_have_text("Who else should we consult?")
        expect(page.locator('input[name^="peer-"][name$="-email"]')).to_have_count(3)
        check_accessible(page)

        # A malformed address: nothing is sent, the error summary takes the focus, the rows are kept.
        fill_peer(page, 0, email="not-an-email", name="Ben Peer", country="FR")
        page.fill('input[name="peer-0-organisation"]', "Ministère de la Justice")
        fill_peer(page, 1, email="Taken@Example.gov")
        sent_before = len(mail.outbox)
        page.click("text=Send the invitations")
        summary = page.locator("#error-summary")
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
        # Only the malformed address is an error: the blank third row is skipped, not required.
        expect(summary.locator("li")).to_have_count(1)
        expect(summary).to_contain_text("Colleague 1, Email address")
        expect(page.locator('input[name="peer-0-email"]')).to_have_value("not-an-email")
        expect(page.locator('input[name="peer-1-email"]')).to_have_value("Taken@Example.gov")
        expect(page.locator('select[name="peer-0-country"]')).to_have_value("FR")
        check_accessible(page)
        assert Invitation.objects.filter(nominated_by=ana).count() == 0
        assert len(mail.outbox) == sent_before

        page.fill('input[name="peer-0-email"]', "ben@example.gov")
        page.click("text=Send the invitations")
        expect(page).to_have_url(re.compile(r"/r/thanks/$"))
        expect(page.locator(".messages")).to_contain_text(
            "Thank you: we will invite the colleagues you suggested."
        )
        # Both suggestions count against the quota, the refused one too: nothing tells them apart.
        expect(page.locator('section[aria-labelledby="nominate-heading"]')).to_contain_text(
            "You may suggest 1 more colleague."
        )
        check_accessible(page)

    sent = mail.outbox[sent_before:]
    assert [message.to for message in sent] == [["ben@example.gov"]]
    body = sent[0].body
    assert re.search(r"/r/optout/[A-Za-z0-9_-]+/", body)
    assert "Ana Official" not in body  # the nominator did not agree to be named
    ben_link = live_server.url + re.search(r"/r/[A-Za-z0-9_-]{40,}/", body).group(0)

    journey(browser, ben_link, javascript=True)
    ben = Invitation.objects.get(email="ben@example.gov")
    assert (ben.wave, ben.nominated_by_id, ben.seed_id) == (1, ana.pk, ana.pk)
    assert (ben.name, ben.country, ben.language) == ("Ben Peer", "FR", "en")
    assert ben.status == "completed"
    assert sorted(Nomination.objects.filter(nominator=ana).values_list("outcome", flat=True)) == [
        "already_invited",
        "invited",
    ]
    taken.refresh_from_db()
    assert (taken.wave, taken.nominated_by_id) == (0, None)

    # The researcher (an owner, without access to personal data) follows the chain.
    with researcher_context(browser, live_server, researcher) as context:
        page = context.new_page()
        page.goto(f"{live_server.url}/q/{open_questionnaire.slug}/invitations/chains/")
        expect(page.locator("h1")).to_have_text("Recruitment chains")
        ana_row = page.locator("tbody tr", has_text=ana.pseudonym)
        expect(ana_row.locator("td")).to_have_text([ana.pseudonym, "Completed", "2", "1", "2"])
        taken_row = page.locator("tbody tr", has_text=taken.label)
        expect(taken_row.locator("td").nth(2)).to_have_text("1")
        expect(taken_row.locator("td").nth(3)).to_have_text("0")
        check_accessible(page)

        page.goto(f"{live_server.url}/q/{open_questionnaire.slug}/invitations/{ben.number}/")
        assert re.fullmatch(r"R-\d{4} · Canada", ana.pseudonym)
        nominated_by = page.locator("dt", has_text="Nominated by").locator("xpath=following-sibling::dd[1]")
        expect(nominated_by).to_have_text(ana.pseudonym)
        expect(page.locator("main")).not_to_contain_text("Ben Peer")
        check_accessible(page)

        page.goto(f"{live_server.url}/q/{open_questionnaire.slug}/invitations/{ana.number}/")
        nominated = page.locator("table[aria-labelledby='nominated-heading'] tbody tr")
        expect(nominated).to_have_count(1)
        expect(nominated.locator("td").first).to_have_text(ben.pseudonym)
        expect(page.locator("main")).not_to_contain_text("Ana Official")
