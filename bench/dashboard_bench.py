"""Benchmark: the simulator at scale, then the dashboard and one seed's tree over it.

    make bench-dashboard          # or: .venv/bin/python -m bench.dashboard_bench --help

Creates a scratch PostgreSQL database (consultation_bench_dashboard), loads the demo questionnaire,
times `simulate_consultation` for 100,000 respondents with their answers, then requests the
dashboard page (figures computed, as on a first view or by the refresh worker; from its snapshot;
from an older snapshot while a worker refreshes it) and the largest seed's tree page as a logged-in
member (the whole Django request, templates included), and reports the median and worst of several
runs. Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.demo_database import SLUG, demo_database

DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/consultation_bench_dashboard"


def timed(client, url: str, runs: int, *, cold: bool = True) -> tuple[float, float]:
    """Median and worst; `cold` empties the cache first each time (the dashboard's snapshot too)."""
    from django.core.cache import cache

    client.get(url)  # templates compiled, definition cached
    times = []
    for _ in range(runs):
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(times) * 1000, max(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="time the pages on the database a previous run left"
    )
    args = parser.parse_args()

    demo_database(args.database_url, reuse=args.reuse)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from questionnaires.models import Questionnaire
    from respondents.dashboard import chain_summaries_top, dashboard
    from respondents.models import Answer, Selection
    from respondents.simulation import simulate_consultation

    questionnaire = Questionnaire.objects.get(slug=SLUG)
    if not args.reuse:
        print(f"simulating {args.respondents:,} respondents …", flush=True)
        started = time.perf_counter()
        simulate_consultation(questionnaire, respondents=args.respondents, seed=1, bulk_load=True)
        seconds = time.perf_counter() - started
        print(
            f"simulator: {args.respondents:,} respondents, {Answer.objects.count():,} answers, "
            f"{Selection.objects.count():,} selections in {seconds:.1f} s"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by then: visibility map, statistics

    client = Client()
    client.force_login(get_user_model().objects.get(username="researcher"))
    median, worst = timed(client, f"/dashboard/{SLUG}/", args.runs)
    print(
        f"dashboard page:     median {median:6.0f} ms   worst {worst:6.0f} ms   ({args.runs} runs, figures computed)"
    )
    median, worst = timed(client, f"/dashboard/{SLUG}/", args.runs, cold=False)
    print(
        f"  from its snapshot: median {median:6.0f} ms   worst {worst:6.0f} ms   (within DASHBOARD_SECONDS)"
    )
    # An older snapshot is served while a worker computes the next (the refresh is claimed here, as
    # the first request after DASHBOARD_SECONDS does when it queues the task).
    from django.conf import settings
    from django.core.cache import cache

    settings.DASHBOARD_SECONDS = 0
    settings.CELERY_TASK_ALWAYS_EAGER = False  # production: a worker takes the refresh
    cache.add(
        f"dashboard:{questionnaire.pk}:{questionnaire.revision}:{questionnaire.default_language}:refreshing",
        True,
    )
    median, worst = timed(client, f"/dashboard/{SLUG}/", args.runs, cold=False)
    print(
        f"  older snapshot:    median {median:6.0f} ms   worst {worst:6.0f} ms   (while a worker refreshes it)"
    )
    largest = chain_summaries_top(questionnaire, dashboard(questionnaire).largest_seeds[:1])[0]
    tree = f"/dashboard/{SLUG}/chains/?seed={largest.seed.number}"
    # The tree page takes the largest chains and the matrix from the dashboard's snapshot.
    median, worst = timed(client, tree, args.runs, cold=False)
    print(
        f"largest seed's tree: median {median:6.0f} ms   worst {worst:6.0f} ms   "
        f"({largest.size:,} members, {largest.depth} waves; the dashboard's snapshot present)"
    )
    median, worst = timed(client, tree, args.runs)
    print(
        f"  with no snapshot:  median {median:6.0f} ms   worst {worst:6.0f} ms   (the figures computed first)"
    )


if __name__ == "__main__":
    main()
