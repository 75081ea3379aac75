"""The monitoring dashboard's figures, its query budget, and who sees it."""

import pytest
from django.utils import timezone

from questionnaires.services import membership_set
from respondents.dashboard import dashboard
from respondents.models import Invitation, Response
from respondents.recruitment import Peer, nominations_create
from respondents.services import response_consent, response_decline, response_save_domain, seed_invite
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROFILE = {"P_COUNTRY": ["CA"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]}


def started(invitation: Invitation, **answers) -> Response:
    response = response_consent(invitation=invitation, language="en")
    response_save_domain(response=response, domain_code="PROFILE", submitted={**PROFILE, **answers})
    return response


def completed(invitation: Invitation, **answers) -> None:
    response = started(invitation, **answers)
    Response.objects.filter(pk=response.pk).update(submitted_at=timezone.now())
    Invitation.objects.filter(pk=invitation.pk).update(status="completed", completed_at=timezone.now())


@pytest.fixture
def consultation(open_questionnaire, researcher):
    """Canada: 2 invited, 1 complete (answering "France" as their country), 1 started; Australia: 1
    declined seed who nominated one peer in New Zealand (wave 1)."""
    ca1 = seed_invite(questionnaire=open_questionnaire, email="a@example.gov", country="CA", actor=researcher)
    ca2 = seed_invite(questionnaire=open_questionnaire, email="b@example.gov", country="CA", actor=researcher)
    au = seed_invite(questionnaire=open_questionnaire, email="c@example.gov", country="AU", actor=researcher)
    completed(ca1, P_COUNTRY=["FR"], P_LEVEL=["SENIOR"])
    started(ca2, P_LEVEL=["MIDDLE"])
    response_decline(invitation=au)
    (nomination,) = nominations_create(
        nominator=au, peers=[Peer(email="d@example.gov", language="en", country="NZ")]
    )
    return open_questionnaire, {"ca1": ca1, "ca2": ca2, "au": au, "nz": nomination.invitation}


def test_headline_and_rates(consultation):
    questionnaire, _ = consultation
    total = dashboard(questionnaire).total
    assert (total.invited, total.consented, total.started, total.completed, total.declined) == (4, 2, 2, 1, 1)
    assert total.response_rate == 0.25 and total.completion_rate == 0.5


def test_names_follow_the_snapshots_language_whatever_language_computes_it(consultation):
    from django.utils import translation

    questionnaire, _ = consultation
    with translation.override("en"):  # a Celery worker speaks the default language
        figures = dashboard(questionnaire, "fr")
    assert {t.label for t in figures.by_country} == {"Canada", "Australie", "Nouvelle-Zélande"}
    assert any(t.label.endswith("· Australie") for t in figures.by_seed)


def test_by_country_region_wave_and_seed(consultation):
    questionnaire, people = consultation
    figures = dashboard(questionnaire)
    by_country = {t.label: (t.invited, t.completed, t.note) for t in figures.by_country}
    assert by_country == {
        "Canada": (2, 1, "1 answered another country"),
        "Australia": (1, 0, ""),
        "New Zealand": (1, 0, ""),
    }
    assert {t.label: t.invited for t in figures.by_region} == {"North America": 2, "Oceania": 2}
    assert [(t.label, t.invited) for t in figures.by_wave] == [("Seeds (wave 0)", 3), ("Wave 1", 1)]
    by_seed = {t.label: t.invited for t in figures.by_seed}
    assert by_seed[people["au"].pseudonym] == 2 and by_seed[people["ca1"].pseudonym] == 1


def test_by_role_and_site_type_among_those_who_answered(consultation):
    questionnaire, _ = consultation
    role_text, rows = dashboard(questionnaire).by_answer["role"]
    assert role_text == "Level"
    assert {(row.label, row.started, row.completed) for row in rows} == {("Senior", 1, 1), ("Middle", 1, 0)}


def test_drop_off_and_timeline(consultation):
    questionnaire, _ = consultation
    figures = dashboard(questionnaire)
    assert figures.drop_off[0] == {"domain": "Profile", "stopped": 1}
    (today,) = figures.timeline
    assert (today["invited"], today["started"], today["completed"]) == (4, 2, 1)


def test_the_query_count_does_not_grow_with_countries_waves_or_seeds(
    consultation, researcher, django_assert_max_num_queries
):
    questionnaire, _people = consultation
    with django_assert_max_num_queries(20) as before:
        dashboard(questionnaire)
    for number, country in enumerate(["BR", "KE", "JP", "DE", "MX", "IN"]):
        seed = seed_invite(
            questionnaire=questionnaire, email=f"s{number}@example.gov", country=country, actor=researcher
        )
        response_decline(invitation=seed)
        nominations_create(
            nominator=seed, peers=[Peer(email=f"p{number}@example.gov", language="en", country=country)]
        )
    with django_assert_max_num_queries(len(before.captured_queries)):
        figures = dashboard(questionnaire)
    assert len(figures.by_country) == 9 and len(figures.by_seed) == 9


def test_a_monitor_sees_the_dashboard_without_names(consultation, client_for):
    questionnaire, people = consultation
    monitor = UserFactory()
    membership_set(questionnaire=questionnaire, user=monitor, role="monitor", actor=None)
    client = client_for(monitor)
    html = client.get(f"/dashboard/{questionnaire.slug}/").content.decode()
    assert "Canada" in html and "Oceania" in html and people["au"].pseudonym in html
    assert "a@example.gov" not in html
    data = client.get(f"/dashboard/{questionnaire.slug}/data.json").json()
    assert data["total"]["invited"] == 4 and data["total"]["response_rate"] == 0.25


def test_the_recruitment_tree_shows_chains_the_region_matrix_and_one_seeds_tree(consultation, client_for):
    questionnaire, people = consultation
    monitor = UserFactory()
    membership_set(questionnaire=questionnaire, user=monitor, role="monitor", actor=None)
    client = client_for(monitor)
    au = people["au"]
    html = client.get(f"/dashboard/{questionnaire.slug}/chains/?seed={au.number}").content.decode()
    assert f"The chain of {au.pseudonym}: 2 members, 1 wave deep" in html
    smaller = people["ca2"]  # not the largest chain, which is drawn when no seed is chosen
    written_with_zeros = client.get(f"/dashboard/{questionnaire.slug}/chains/?seed=00{smaller.number}")
    assert f"The chain of {smaller.pseudonym}:" in written_with_zeros.content.decode()
    assert ("<svg" in html and f"{people['nz'].pseudonym} · emailed" in html) or "· created" in html
    assert "Who recruits whom, by region" in html and "Oceania" in html
    assert "c@example.gov" not in html and "Official" not in html


def test_the_tree_page_does_not_grow_queries_with_seeds_or_waves(
    consultation, researcher, client_for, django_assert_max_num_queries
):
    questionnaire, _ = consultation
    owner = UserFactory()
    membership_set(questionnaire=questionnaire, user=owner, role="owner", actor=None)
    client = client_for(owner)
    url = f"/dashboard/{questionnaire.slug}/chains/"
    client.get(url)
    from respondents.simulation import simulate_consultation

    simulate_consultation(questionnaire, respondents=60, seed=2)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(20):  # a fixed set: one GROUP BY per breakdown
        assert client.get(f"/dashboard/{questionnaire.slug}/").status_code == 200


def test_everyone_watching_reads_one_snapshot_for_a_few_seconds(
    consultation, client_for, researcher, django_assert_max_num_queries
):
    from django.core.cache import cache

    questionnaire, _ = consultation
    monitor = UserFactory()
    membership_set(questionnaire=questionnaire, user=monitor, role="monitor", actor=None)
    client = client_for(monitor)
    url = f"/dashboard/{questionnaire.slug}/data.json"
    first = client.get(url).json()
    seed_invite(questionnaire=questionnaire, email="late@example.gov", country="CA", actor=researcher)
    with django_assert_max_num_queries(4):  # session, questionnaire, membership: no figures recomputed
        again = client.get(url).json()
    assert again == first
    cache.clear()  # the snapshot expires
    assert client.get(url).json()["total"]["invited"] == first["total"]["invited"] + 1


@pytest.fixture
def watched(consultation, client_for, researcher):
    """A snapshot someone opened, then an invitation it does not count yet: (questionnaire, client,
    the figures' URL, the first figures)."""
    questionnaire, _ = consultation
    client = client_for(researcher)
    url = f"/dashboard/{questionnaire.slug}/data.json"
    first = client.get(url).json()  # the first view computes the figures
    seed_invite(questionnaire=questionnaire, email="late@example.gov", country="CA", actor=researcher)
    return questionnaire, client, url, first


def test_an_old_snapshot_is_served_while_a_worker_computes_the_next(watched, settings, monkeypatch):
    from respondents import tasks

    questionnaire, client, url, first = watched
    queued = []
    monkeypatch.setattr(tasks.refresh_dashboard_task, "delay", lambda *args: queued.append(args))
    settings.DASHBOARD_SECONDS = 0  # every snapshot is old at once
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker takes the task …
    monkeypatch.setattr("respondents.dashboard._workers_share_the_cache", lambda: True)  # … and shares it

    assert client.get(url).json()["total"] == first["total"]
    assert client.get(url).json()["total"] == first["total"]
    assert queued == [(questionnaire.pk, questionnaire.default_language)]  # asked once, not per view

    tasks.refresh_dashboard_task(*queued[0])  # the worker's turn
    assert client.get(url).json()["total"]["invited"] == first["total"]["invited"] + 1


def test_when_the_broker_cannot_take_the_refresh_the_figures_are_computed_in_the_request(
    watched, settings, monkeypatch
):
    from kombu.exceptions import OperationalError

    from respondents import tasks

    def broker_down(*args):
        raise OperationalError("connection refused")

    _questionnaire, client, url, first = watched
    monkeypatch.setattr(tasks.refresh_dashboard_task, "delay", broker_down)
    monkeypatch.setattr("respondents.dashboard._workers_share_the_cache", lambda: True)
    settings.DASHBOARD_SECONDS = 0

    assert client.get(url).json()["total"]["invited"] == first["total"]["invited"] + 1


def test_without_a_worker_an_old_snapshot_is_recomputed_in_the_request(watched, settings):
    _questionnaire, client, url, first = watched
    settings.DASHBOARD_SECONDS = 0
    assert settings.CELERY_TASK_ALWAYS_EAGER  # tasks run in-process, as on the embedded default

    assert client.get(url).json()["total"]["invited"] == first["total"]["invited"] + 1


def test_a_snapshot_past_the_stale_limit_is_recomputed_in_the_request(watched, settings, monkeypatch):
    from respondents import tasks

    _questionnaire, client, url, first = watched
    queued = []
    monkeypatch.setattr(tasks.refresh_dashboard_task, "delay", lambda *args: queued.append(args))
    monkeypatch.setattr("respondents.dashboard._workers_share_the_cache", lambda: True)
    monkeypatch.setattr("respondents.dashboard.STALE_LIMIT_SECONDS", 0)  # the worker never came
    settings.DASHBOARD_SECONDS = 0

    assert client.get(url).json()["total"]["invited"] == first["total"]["invited"] + 1
    assert queued == []


@pytest.mark.parametrize(
    ("backend", "eager", "shared"),
    [
        ("django.core.cache.backends.redis.RedisCache", False, True),
        ("django.core.cache.backends.locmem.LocMemCache", False, False),
        ("django.core.cache.backends.dummy.DummyCache", False, False),
        ("django.core.cache.backends.redis.RedisCache", True, False),
    ],
)
def test_only_workers_that_share_the_cache_refresh_the_snapshot(settings, backend, eager, shared):
    from respondents.dashboard import _workers_share_the_cache

    settings.CACHES = {"default": {"BACKEND": backend}}
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    assert _workers_share_the_cache() is shared


def test_the_dashboard_still_works_when_the_cache_is_down(consultation, client_for, monkeypatch):
    class Down:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache unreachable")

        set = get

    monkeypatch.setattr("respondents.dashboard.cache", Down())
    questionnaire, _ = consultation
    owner = UserFactory()
    membership_set(questionnaire=questionnaire, user=owner, role="owner", actor=None)
    assert client_for(owner).get(f"/dashboard/{questionnaire.slug}/").status_code == 200
