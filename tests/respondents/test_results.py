"""Results, coding of open answers and the report, checked against answers counted by hand."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from consultation.models import AuditEntry
from questionnaires.services import membership_set
from respondents.coding import answer_tag, answer_untag
from respondents.models import Answer, Response, Theme, ThemeTag
from respondents.results import ResultFilters, open_answers, percent, results
from respondents.services import response_consent, response_save_domain, response_submit, seed_invite
from respondents.simulation import simulate_consultation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# country, level, what they chose in D1_Q1, their likert answer, their ranking, their open answer
PEOPLE = [
    ("CA", "SENIOR", ["DISPERSAL"], "SA", ["INTEL", "TRANSFER"], "Staff awareness training"),
    ("US", "SENIOR", ["DISPERSAL", "CONCENTRATION"], "N", ["INTEL", "TRANSFER"], "Training of all staff"),
    ("FR", "MIDDLE", ["CONCENTRATION"], None, ["TRANSFER", "INTEL"], "Separate units for leaders"),
    ("AU", "MIDDLE", ["DISPERSAL"], "SD", ["INTEL", "TRANSFER"], "Awareness sessions for officers"),
]


def respond(questionnaire, researcher, index, country, level, chosen, likert, ranking, text, submit=True):
    invitation = seed_invite(
        questionnaire=questionnaire, email=f"p{index}@example.gov", country=country, actor=researcher
    )
    response = response_consent(invitation=invitation, language="en")
    profile = {"P_COUNTRY": [country], "P_LEVEL": [level], "P_SITE": ["ADMIN"], "P_PEERS": [str(index + 2)]}
    assert response_save_domain(response=response, domain_code="PROFILE", submitted=profile).ok
    d1 = {
        "D1_Q1": chosen,
        "D1_Q3": ["YES"],
        "D1_Q4": [text],
        "D1_Q7.ISOLATION": ["LOW"],
        "D1_Q7.MIXED": ["HIGH"],
        **{f"D1_Q6.{item}": [str(rank)] for rank, item in enumerate(ranking, start=1)},
    }
    if likert:
        d1["D1_Q2"] = [likert]
    result = response_save_domain(response=response, domain_code="D1", submitted=d1)
    assert result.ok, result.errors
    if submit:
        response_submit(response=response)
    return response


@pytest.fixture
def answered(open_questionnaire, researcher):
    for index, person in enumerate(PEOPLE):
        respond(open_questionnaire, researcher, index, *person)
    return open_questionnaire


def question(figures, code):
    return next(q for d in figures.domains for q in d.questions if q.code == code)


def test_percentages_round_half_up_to_one_decimal():
    assert percent(37, 81) == Decimal("45.7")  # the study printed 45.6 (it truncated)
    assert percent(1, 16) == Decimal("6.3")  # 6.25 goes up
    assert percent(1, 8) == Decimal("12.5")
    assert percent(0, 5) == Decimal("0.0")
    assert percent(3, 0) is None


def test_counts_by_region_from_the_respondents_own_answers(answered):
    figures = results(answered, ResultFilters(breakdown="region"), language="en", domain_codes=["D1"])
    assert figures.respondents == 4
    assert figures.groups == [
        ("North America", "North America"),
        ("Europe", "Europe"),
        ("Oceania", "Oceania"),
    ]
    multiple = question(figures, "D1_Q1")
    assert multiple.answered.n == 4
    dispersal = next(row for row in multiple.rows if row.code == "DISPERSAL")
    assert (dispersal.overall.n, dispersal.overall.percent) == (3, Decimal("75.0"))
    assert [(cell.n, cell.whole) for cell in dispersal.groups] == [(2, 2), (0, 1), (1, 1)]
    concentration = next(row for row in multiple.rows if row.code == "CONCENTRATION")
    assert concentration.overall.n == 2 and concentration.groups[1].n == 1


def test_likert_median_ranking_means_and_matrix_rows(answered):
    figures = results(answered, ResultFilters(breakdown="none"), language="en", domain_codes=["D1"])
    likert = question(figures, "D1_Q2")  # shown to those who chose DISPERSAL: SA, N, SD
    assert [(row.code, row.overall.n) for row in likert.rows] == [("SD", 1), ("N", 1), ("SA", 1)]
    assert likert.median == "Neutral" or likert.median == likert.rows[1].label
    ranking = question(figures, "D1_Q6")
    first = ranking.rows[0]
    assert first.code == "INTEL" and first.mean_rank == Decimal("1.25") and first.first_place == 3
    matrix = question(figures, "D1_Q7")
    _, isolation_rows = matrix.matrix[0]
    assert [(row.code, row.overall.n) for row in isolation_rows] == [("LOW", 4), ("HIGH", 0)]


def test_breakdown_by_country_and_by_responsibility_level(answered):
    by_country = results(answered, ResultFilters(breakdown="country"), language="en", domain_codes=["D1"])
    assert [key for key, _ in by_country.groups] == ["AU", "CA", "FR", "US"]  # sorted by name
    by_level = results(answered, ResultFilters(breakdown="role"), language="en", domain_codes=["D1"])
    assert [key for key, _ in by_level.groups] == ["SENIOR", "MIDDLE"]
    concentration = next(row for row in question(by_level, "D1_Q1").rows if row.code == "CONCENTRATION")
    assert [cell.n for cell in concentration.groups] == [1, 1]


def test_filters_by_completeness_and_wave(answered, researcher):
    respond(
        answered, researcher, 9, "GB", "SENIOR", ["DISPERSAL"], "SA", ["INTEL", "TRANSFER"], "x", submit=False
    )
    assert results(answered, ResultFilters(responses="complete"), language="en").respondents == 4
    assert results(answered, ResultFilters(responses="partial"), language="en").respondents == 1
    assert results(answered, ResultFilters(), language="en").respondents == 5
    assert results(answered, ResultFilters(wave=1), language="en").respondents == 0


def test_a_domains_results_take_the_same_queries_whatever_the_size(
    open_questionnaire, django_assert_max_num_queries
):
    simulate_consultation(open_questionnaire, respondents=30, seed=2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        results(open_questionnaire, ResultFilters(breakdown="country"), language="en")
    simulate_consultation(open_questionnaire, respondents=120, seed=3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        figures = results(open_questionnaire, ResultFilters(breakdown="country"), language="en")
    assert len(figures.groups) > 3


def test_coding_three_open_answers_changes_the_counts(answered, researcher, client):
    client.force_login(researcher)
    page = client.get(f"/dashboard/{answered.slug}/results/open/D1_Q4/?region=North+America")
    html = page.content.decode()
    assert "Staff awareness training" in html and "Separate units" not in html
    ids = dict(Answer.objects.filter(question__code="D1_Q4").values_list("value", "pk"))
    url = f"/dashboard/{answered.slug}/results/open/D1_Q4/tag/"
    client.post(url, {"answer": ids["Staff awareness training"], "new_theme": "Staff awareness training"})
    theme = Theme.objects.get(name="Staff awareness training")
    client.post(url, {"answer": ids["Training of all staff"], "theme": theme.pk})
    client.post(
        url, {"answer": ids["Awareness sessions for officers"], "new_theme": "staff awareness  training"}
    )
    assert Theme.objects.count() == 1 and ThemeTag.objects.count() == 3
    figures = results(answered, ResultFilters(breakdown="region"), language="en", domain_codes=["D1"])
    coded = question(figures, "D1_Q4").themes
    assert [(row.label, row.overall.n) for row in coded] == [("Staff awareness training", 3)]
    assert [cell.n for cell in coded[0].groups] == [2, 0, 1]
    assert figures.domains[0].themes[0].label == "Staff awareness training"
    assert AuditEntry.objects.filter(action="answers.coded").count() == 3
    page = client.get(f"/dashboard/{answered.slug}/results/?domain=D1").content.decode()
    assert "Staff awareness training" in page
    client.post(
        f"/dashboard/{answered.slug}/results/open/D1_Q4/untag/",
        {"answer": ids["Training of all staff"], "theme": theme.pk},
    )
    figures = results(answered, ResultFilters(), language="en", domain_codes=["D1"])
    assert question(figures, "D1_Q4").themes[0].overall.n == 2


def test_coding_is_refused_across_questionnaires_and_for_monitors(answered, researcher, client):
    from tests.factories import QuestionnaireFactory

    other = QuestionnaireFactory()
    theme = Theme.objects.create(questionnaire=other, name="Elsewhere")
    answer = Answer.objects.filter(question__code="D1_Q4").first()
    with pytest.raises(Exception, match="not one of this questionnaire's"):
        answer_tag(
            questionnaire=answered,
            question_code="D1_Q4",
            answer_id=answer.pk,
            theme_id=theme.pk,
            actor=researcher,
        )
    answer_untag(questionnaire=answered, answer_id=answer.pk, theme_id=theme.pk, actor=researcher)
    monitor = UserFactory(username="monitor-r")
    membership_set(questionnaire=answered, user=monitor, role="monitor", actor=None)
    client.force_login(monitor)
    assert client.get(f"/dashboard/{answered.slug}/results/open/D1_Q4/").status_code == 200
    response = client.post(
        f"/dashboard/{answered.slug}/results/open/D1_Q4/tag/", {"answer": answer.pk, "new_theme": "X"}
    )
    assert response.status_code == 403
    assert not ThemeTag.objects.exists()


def test_open_answers_filter_by_country(answered):
    found, total = open_answers(answered, "D1_Q4", ResultFilters(), country="FR")
    assert total == 1 and found[0].text == "Separate units for leaders" and found[0].region == "Europe"
    found, total = open_answers(answered, "D1_Q4", ResultFilters(), region="Oceania")
    assert [answer.country for answer in found] == ["AU"]


def test_the_report_reads_like_the_studys_summary(answered, researcher, client):
    Response.objects.filter(questionnaire=answered).update(submitted_at=timezone.now() - timedelta(days=3))
    client.force_login(researcher)
    html = client.get(f"/dashboard/{answered.slug}/report/").content.decode()
    sentence = re.sub(r"\s+", " ", re.search(r'id="sample-sentence">(.*?)</p>', html, re.S).group(1))
    assert sentence.startswith(
        "In total, 4 respondents from 4 countries completed the online questionnaire between"
    )
    assert "Respondents represented North America (50.0%), Europe (25.0%), and Oceania (25.0%)." in sentence
    assert "rounded half up to one decimal" in html
    assert "What is your level" in html or "Level" in html


def test_results_pages_use_a_constant_number_of_queries(
    answered, researcher, client, django_assert_max_num_queries
):
    client.force_login(researcher)
    with django_assert_max_num_queries(20):
        assert (
            client.get(f"/dashboard/{answered.slug}/results/?domain=D1&breakdown=country").status_code == 200
        )
    with django_assert_max_num_queries(20):
        assert client.get(f"/dashboard/{answered.slug}/report/").status_code == 200


def test_a_domain_theme_counts_each_respondent_once(answered, researcher):
    response = Response.objects.filter(questionnaire=answered).first()
    long_text = Answer.objects.create(
        response=response, question=answered.questions.get(code="D1_Q5"), value="More training"
    )
    short_text = Answer.objects.get(response=response, question__code="D1_Q4")
    for answer in (short_text, long_text):
        answer_tag(
            questionnaire=answered,
            question_code=answer.question.code,
            answer_id=answer.pk,
            new_theme="Staff training",
            actor=researcher,
        )
    figures = results(answered, ResultFilters(breakdown="none"), language="en", domain_codes=["D1"])
    assert [(row.label, row.overall.n) for row in figures.domains[0].themes] == [("Staff training", 1)]


def test_answers_of_a_closed_question_cannot_be_tagged(answered, researcher):
    closed = Answer.objects.filter(question__code="D1_Q3").first()
    with pytest.raises(Exception, match="not one of this question's"):
        answer_tag(
            questionnaire=answered,
            question_code="D1_Q4",
            answer_id=closed.pk,
            new_theme="X",
            actor=researcher,
        )
    assert not ThemeTag.objects.exists()


def test_a_matrix_items_percentages_are_of_those_who_rated_it(answered):
    from respondents.models import Selection

    # One respondent leaves the second row out: its percentages are of the three who rated it.
    response = Response.objects.filter(questionnaire=answered).first()
    Selection.objects.filter(response=response, question__code="D1_Q7", item="MIXED").delete()
    figures = results(answered, ResultFilters(breakdown="none"), language="en", domain_codes=["D1"])
    _, mixed = question(figures, "D1_Q7").matrix[1]
    high = next(row for row in mixed if row.code == "HIGH")
    assert (high.overall.n, high.overall.whole, high.overall.percent) == (3, 3, Decimal("100.0"))
