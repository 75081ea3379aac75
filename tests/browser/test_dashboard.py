"""The dashboard in a real browser: charts drawn from the vendored library under the strict CSP,
figures refreshed without reloading, and no serious accessibility violation."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from respondents.services import seed_invite
from respondents.simulation import simulate_consultation

from .test_respondent_journey import check_accessible, researcher_context

pytestmark = pytest.mark.django_db(transaction=True)


def test_charts_draw_and_figures_refresh_without_reloading(
    browser, live_server, open_questionnaire, researcher
):
    simulate_consultation(open_questionnaire, respondents=40, seed=4)
    with researcher_context(browser, live_server, researcher) as context:
        page = context.new_page()
        problems = []
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.goto(f"{live_server.url}/dashboard/{open_questionnaire.slug}/")
        page.wait_for_function(
            "() => window.consultationDashboard && window.consultationDashboard.charts.timeline"
        )
        assert page.evaluate("() => Object.keys(window.consultationDashboard.charts).sort()") == [
            "chart-region",
            "chart-wave",
            "timeline",
        ]
        invited = page.locator('[data-figure="invited"]')
        expect(invited).to_have_text("40")
        check_accessible(page)

        seed_invite(
            questionnaire=open_questionnaire, email="late@example.gov", country="CA", actor=researcher
        )
        cache.clear()  # as when the 30-second snapshot expires
        page.evaluate("() => window.consultationDashboard.refresh()")
        expect(invited).to_have_text("41")
        expect(page.locator("#refreshed-at")).to_have_text(re.compile(r"\d"))
        assert not [text for text in problems if "Content Security Policy" in text or "Refused" in text], (
            problems
        )
