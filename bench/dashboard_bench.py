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

from bench.demo_database import SLUG, demo_database, simulated, timed

DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/consultation_bench_dashboard"


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
    from django.test import Client

    from questionnaires.models import Questionnaire
    from respondents.dashboard import chain_summaries_top
    from respondents.models import Answer, Selection
    from respondents.selectors import largest_chain_seeds

    questionnaire = Questionnaire.objects.get(slug=SLUG)
    seconds = simulated(questionnaire, args.respondents, reuse=args.reuse)
    if seconds is not None:
        print(
            f"simulator: {args.respondents:,} respondents, {Answer.objects.count():,} answers, "
            f"{Selection.objects.count():,} selections in {seconds:.1f} s"
        )

    client = Client()
    client.force_login(get_user_model().objects.get(username="researcher"))
    median, worst = timed(client, f"/dashboard/{SLUG}/", args.runs, cold=True)
    print(
        f"dashboard page:     median {median:6.0f} ms   worst {worst:6.0f} ms   ({args.runs} runs, figures computed)"
    )
    median, worst = timed(client, f"/dashboard/{SLUG}/", args.runs)
    print(
        f"  from its snapshot: median {median:6.0f} ms   worst {worst:6.0f} ms   (within DASHBOARD_SECONDS)"
    )
    largest = chain_summaries_top(questionnaire, largest_chain_seeds(questionnaire, 1))[0]
    tree = f"/dashboard/{SLUG}/chains/?seed={largest.seed.number}"
    # The tree page takes the largest chains and the matrix from the dashboard's snapshot.
    median, worst = timed(client, tree, args.runs)
    print(
        f"largest seed's tree: median {median:6.0f} ms   worst {worst:6.0f} ms   "
        f"({largest.size:,} members, {largest.depth} waves; the dashboard's snapshot present)"
    )
    median, worst = timed(client, tree, args.runs, cold=True)
    print(
        f"  with no snapshot:  median {median:6.0f} ms   worst {worst:6.0f} ms   (the figures computed first)"
    )
    older_snapshot(client, questionnaire, args.runs)


def older_snapshot(client, questionnaire, runs: int) -> None:
    """The dashboard page once its snapshot is older than DASHBOARD_SECONDS, as in production: a
    cache the workers share, and a worker already asked for the next figures (the first request
    after DASHBOARD_SECONDS claims and queues the refresh; here it is claimed beforehand)."""
    from django.conf import settings
    from django.core.cache import cache

    from respondents import dashboard

    dashboard._workers_share_the_cache = lambda: True  # this process's memory cache stands in for Redis
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.DASHBOARD_SECONDS = 0
    cache.add(dashboard.refresh_claim_key(questionnaire, questionnaire.default_language), True)
    median, worst = timed(client, f"/dashboard/{SLUG}/", runs)
    print(
        f"  older snapshot:    median {median:6.0f} ms   worst {worst:6.0f} ms   (while a worker refreshes it)"
    )


if __name__ == "__main__":
    main()
