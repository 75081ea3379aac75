"""Benchmark: results, report and exports of a consultation of 100,000 respondents on PostgreSQL.

    make bench-results            # or: .venv/bin/python -m bench.results_bench --help

Creates a scratch PostgreSQL database (consultation_bench_results), loads the demo questionnaire and
simulates the respondents with their answers (or, with --reuse, times a database a previous run
left). Then it requests each domain's results page and the report as a logged-in member (the whole
Django request, templates included), downloads the CSV from the exports page (request to last byte,
in this process), and runs `export_responses` as a child process for CSV, Excel and SPSS, reporting
rows per second (process start included) and the child's peak memory. Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.demo_database import ROOT, SLUG, demo_database, simulated, timed

DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/consultation_bench_results"


# Starts the command from a small process: a child's peak memory counts the pages of whoever forked
# it until it runs the new program, and this benchmark holds a whole simulation by then.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def export_run(fmt: str, output: Path) -> tuple[float, float]:
    """Seconds and peak memory (MB) of `export_responses` in a child process of its own."""
    started = time.perf_counter()
    child = subprocess.run(
        [
            sys.executable, "-S", "-c", LAUNCHER, sys.executable,
            "manage.py", "export_responses", SLUG, "--format", fmt, "--output", str(output),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"export_responses --format {fmt} failed")
    return seconds, int(child.stdout.split()[-1]) / 1024


def csv_download(client, runs: int) -> tuple[float, int]:
    """Median seconds from the request to the last byte of the CSV from the exports page."""
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post(f"/dashboard/{SLUG}/exports/", {"format": "csv", "responses": "all"})
        size = sum(len(chunk) for chunk in response.streaming_content)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="time the database a previous run left")
    parser.add_argument("--skip-files", action="store_true", help="CSV only (no Excel or SPSS)")
    args = parser.parse_args()

    demo_database(args.database_url, reuse=args.reuse)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from questionnaires.models import Questionnaire
    from questionnaires.selectors import questionnaire_definition
    from respondents.models import Answer, Response

    questionnaire = Questionnaire.objects.get(slug=SLUG)
    seconds = simulated(questionnaire, args.respondents, reuse=args.reuse)
    if seconds is not None:
        print(f"simulated in {seconds:.0f} s", flush=True)
    started_count = Response.objects.filter(questionnaire=questionnaire, started_at__isnull=False).count()
    print(f"{started_count:,} respondents who started, {Answer.objects.count():,} answers")

    client = Client()
    client.force_login(get_user_model().objects.get(username="researcher"))
    for domain in questionnaire_definition(questionnaire).domains:
        median, worst = timed(
            client, f"/dashboard/{SLUG}/results/?domain={domain.code}&breakdown=region", args.runs
        )
        print(f"results {domain.code:8} by region:  median {median:6.0f} ms   worst {worst:6.0f} ms")
    median, worst = timed(client, f"/dashboard/{SLUG}/results/?domain=D1&breakdown=country", args.runs)
    print(f"results D1 by country:       median {median:6.0f} ms   worst {worst:6.0f} ms")
    median, worst = timed(client, f"/dashboard/{SLUG}/report/", args.runs)
    print(f"report (every domain):       median {median:6.0f} ms   worst {worst:6.0f} ms")

    seconds, size = csv_download(client, args.runs)
    print(
        f"csv download: {started_count:,} rows in {seconds:5.1f} s = {started_count / seconds:8,.0f} rows/s "
        f"({size / 1e6:.0f} MB; median of {args.runs}, from the exports page)"
    )
    with tempfile.TemporaryDirectory() as folder:
        formats = ["csv"] if args.skip_files else ["csv", "xlsx", "sav"]
        for fmt in formats:
            seconds, peak = export_run(fmt, Path(folder) / f"export.{fmt}")
            print(
                f"export {fmt:4}: {started_count:,} rows in {seconds:5.1f} s = {started_count / seconds:8,.0f} rows/s "
                "(export_responses, process start included), "
                f"peak memory of the process {peak:5.0f} MB"
            )


if __name__ == "__main__":
    main()
