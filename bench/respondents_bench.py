"""Benchmark: 16 concurrent respondents answer the whole demo questionnaire against gunicorn and PostgreSQL.

    make bench-respondents            # or: .venv/bin/python -m bench.respondents_bench --help

Creates a scratch database (consultation_bench), loads the demo, invites the respondents, starts
gunicorn (2 workers) on a free loopback port, measures a floor (a view doing one INSERT, same
server, same concurrency; half before the respondents and half after, averaged), takes one
respondent per client through first as a warm-up (not counted), then drives the respondents as a
browser would, following every redirect: the link and its landing page, consent and the first
page, every domain page saved with valid answers (follow-ups included; each save answers with the
next page, the last with the review), submit and the thank-you page. A POST answered with a
redirect (older versions) is followed, so versions compare. Prints page saves per second,
p50/p95/p99 of page loads (the GETs), of saves, and of the time from Next to the next page shown
(the save, plus the page it redirects to where a save redirects), and errors, beside the floor.
Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres:postgres@127.0.0.1:5432/consultation_bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_READ_DOT_ENV": "false",
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "OPT_OUT_HASH_KEY": "benchmark-only-opt-out-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": "/tmp/consultation-bench-static",
    }


def prepare(database_url: str, respondents: int) -> list[str]:
    """A fresh database with the demo open and `respondents` seeds; returns their tokens."""
    env = server_env(database_url)
    name = urllib.parse.urlparse(database_url).path.lstrip("/")
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "load_demo", "--force"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, at timestamptz)")
    script = (
        "from questionnaires.models import Questionnaire\n"
        "from respondents.models import Invitation\n"
        "q = Questionnaire.objects.get(slug='radicalized-offenders-consultation')\n"
        f"rows = [Invitation(questionnaire=q, number=i, email=f'r{{i}}@example.org', email_normalised=f'r{{i}}@example.org',"
        f" language='en', country='CA') for i in range(1, {respondents} + 1)]\n"
        "Invitation.objects.bulk_create(rows)\n"
        "for token in Invitation.objects.filter(questionnaire=q).values_list('token', flat=True): print('TOKEN', token)\n"
    )
    out = subprocess.run(
        [*manage, "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return [line.split()[1] for line in out.stdout.splitlines() if line.startswith("TOKEN ")]


class Client:
    """One respondent's browser: cookies, CSRF, and HTTP/1.1 over a plain socket.

    Lean on purpose: the load generator shares the machine's two cores with the server, and
    http.client's header parsing (the email package) and SimpleCookie cost it about twice the CPU
    per request. A connection the server closes (gunicorn's sync workers close each one) is opened
    again for the next request; one kept alive is reused."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: str | list[tuple[str, str]] | None = None):
        """`form`: the fields, as (name, value) pairs or already urlencoded; the CSRF token is added here.
        Returns (status, Location, the body as text, seconds)."""
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if form is not None:
            if not isinstance(form, str):
                form = urllib.parse.urlencode(form)
            token = "csrfmiddlewaretoken=" + urllib.parse.quote_plus(self.cookies.get("csrftoken", ""))
            body = (f"{form}&{token}" if form else token).encode()
            lines += ["Content-Type: application/x-www-form-urlencoded", "Referer: http://127.0.0.1/"]
        if method == "POST" or body:
            lines.append(f"Content-Length: {len(body)}")
        message = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        started = time.perf_counter()
        status, headers, content, closes = self._exchange(message)
        elapsed = time.perf_counter() - started
        for value in headers.get("set-cookie", ()):
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if closes:
            self.close()
        location = headers.get("location", [""])[0]
        return status, location, content.decode(), elapsed

    def _exchange(self, message: bytes):
        fresh = self.sock is None
        if fresh:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.sendall(message)
            return self._read_response()
        except (ConnectionError, EOFError):
            self.close()
            if fresh or not message.startswith(b"GET "):
                raise  # a form is never sent twice: the server may have acted on it
            return self._exchange(message)  # a kept connection the server had closed meanwhile

    def _read_response(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection before answering")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, list[str]] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        closes = status_line.startswith("HTTP/1.0") or headers.get("connection", [""])[0].lower() == "close"
        if "content-length" in headers:
            length = int(headers["content-length"][0])
            while len(rest) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("the server closed the connection mid-response")
                rest += chunk
            return status, headers, rest[:length], closes
        if headers.get("transfer-encoding", [""])[0].lower() == "chunked":
            return status, headers, self._read_chunked(rest), closes
        while chunk := self.sock.recv(65536):  # the body ends when the connection does
            rest += chunk
        return status, headers, rest, True

    def _read_chunked(self, data: bytes) -> bytes:
        body = b""
        while True:
            while b"\r\n" not in data:
                data += self._more()
            size_line, _, data = data.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(data) < size + 2:
                data += self._more()
            if size == 0:
                return body
            body, data = body + data[:size], data[size + 2 :]

    def _more(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection mid-response")
        return chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def answers_for_page(definition, domain, answers):
    """Valid answers for every question the server will show on this page, follow-ups included."""
    from questionnaires.engine.answers import submitted_for
    from questionnaires.engine.conditions import evaluate
    from questionnaires.engine.definition import QuestionType
    from questionnaires.engine.routing import effective_answers

    sample = {
        QuestionType.SHORT_TEXT: "Intelligence sharing between sites",
        QuestionType.LONG_TEXT: "Staff awareness training at every level, refreshed each year.",
        QuestionType.COUNTRY: "CA",
    }
    fields: list[tuple[str, str]] = []
    shown = []
    for question in domain.questions:
        if not evaluate(question.condition, effective_answers(definition, answers)):
            continue
        shown.append(question.code)
        kind = question.type
        options = [o for o in question.options if not o.is_other]
        if kind in sample:
            value = sample[kind]
        elif kind.takes_one_code:
            value = options[0].code
        elif kind is QuestionType.MULTIPLE_CHOICE:
            value = [o.code for o in options[: max(1, min(2, question.max_choices or 2))]]
        elif kind is QuestionType.NUMBER:
            value = str(int(question.min_value or 0) + 3)
        elif kind is QuestionType.RANKING:
            value = [item.code for item in question.items]
        else:
            value = {item.code: options[0].code for item in question.items}
        answers[question.code] = value
        for name, values in submitted_for(question, value).items():
            fields.extend((name, v) for v in values)
    fields.append(("_shown", ",".join(shown)))
    fields.append(("_action", "next"))
    return fields


PAGE_URL = re.compile(r'<meta name="page-url" content="([^"]+)">')


def journey(definition) -> list[tuple[str, str, str]]:
    """Every respondent's page saves, worked out once (they all give the same answers, so the load
    generator spends its share of the machine's CPU on requests, not on the questionnaire's rules):
    (the page's address, its form urlencoded, the page that should follow)."""
    from questionnaires.engine.routing import visible_domains

    answers: dict = {}
    domains = visible_domains(definition, answers)
    steps = []
    for index, domain in enumerate(domains):
        following = (
            f"/r/page/{definition.domains.index(domains[index + 1]) + 1}/"
            if index + 1 < len(domains)
            else "/r/review/"
        )
        form = urllib.parse.urlencode(answers_for_page(definition, domain, answers))
        steps.append((f"/r/page/{definition.domains.index(domain) + 1}/", form, following))
    return steps


def respondent_run(port: int, tokens: list[str], steps, results: dict, lock: threading.Lock) -> None:
    """What a browser does: every redirect followed. A form posted is answered with the page that
    follows it, or (Post/Redirect/Get) redirected to it: both are counted, and checked."""
    loads, saves, turns, errors = [], [], [], 0  # turns: from Next to the next page shown

    def load(client: Client, location: str, expected: str) -> float:
        nonlocal errors
        status, _, _, elapsed = client.request("GET", location)
        loads.append(elapsed)
        if status != 200 or location != expected:
            errors += 1
            print(f"GET {location}: {status}, expected {expected}", file=sys.stderr)
        return elapsed

    def post(client: Client, path: str, form: str, expected: str) -> tuple[float, float]:
        """Post a form and reach the page that follows: (the POST's time, until that page shown)."""
        nonlocal errors
        status, location, content, elapsed = client.request("POST", path, form)
        if status == 302:
            if location == "/r/resume/":  # resuming redirects once more
                _, location, _, more = client.request("GET", location)
                elapsed += more
            return elapsed, elapsed + load(client, location, expected)
        shown = PAGE_URL.search(content)
        if status != 200 or not shown or shown.group(1) != expected:
            errors += 1
            print(f"POST {path}: {status} {shown and shown.group(1)}, expected {expected}", file=sys.stderr)
        return elapsed, elapsed

    for token in tokens:
        client = Client(port)
        try:
            _, location, _, _ = client.request("GET", f"/r/{token}/")
            load(client, location, "/r/")
            post(client, "/r/consent/", "", "/r/page/1/")
            for path, form, following in steps:
                save, turn = post(client, path, form, following)
                saves.append(save)
                turns.append(turn)
            post(client, "/r/submit/", "", "/r/thanks/")
        except Exception as error:  # counted, and the run goes on
            errors += 1
            print("error:", error, file=sys.stderr)
        finally:
            client.close()
    with lock:
        results["loads"].extend(loads)
        results["saves"].extend(saves)
        results["turns"].extend(turns)
        results["errors"] += errors


def floor_run(port: int, seconds: float, results: dict, lock: threading.Lock) -> None:
    client = Client(port)
    timings, errors = [], 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        status, _, _, elapsed = client.request("POST", "/bench/floor/", "")
        timings.append(elapsed)
        errors += status != 200
    with lock:
        results["floor"].extend(timings)
        results["floor_errors"] += errors


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its children (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu_seconds(int(child)) for child in children)


def machine_busy_seconds() -> float:
    """CPU-seconds the whole machine spent outside idle and iowait since boot (Linux /proc)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--respondents-per-client", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--floor-seconds", type=float, default=10)
    parser.add_argument(
        "--warmup-per-client",
        type=int,
        default=1,
        help="respondents each client takes through first, not counted (each worker compiles its templates and queries)",
    )
    args = parser.parse_args()

    total = args.concurrency * args.respondents_per_client
    warmup = args.concurrency * args.warmup_per_client
    print(f"preparing {warmup} + {total} invitations in a scratch database …", flush=True)
    tokens = prepare(args.database_url, warmup + total)
    warmup_tokens, tokens = tokens[:warmup], tokens[warmup:]
    port = free_port()
    env = server_env(args.database_url)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "consultation.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            args.worker_class,
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        os.environ.update(
            {
                k: v
                for k, v in env.items()
                if k
                in (
                    "DJANGO_SETTINGS_MODULE",
                    "DATABASE_URL",
                    "SECRET_KEY",
                    "OPT_OUT_HASH_KEY",
                    "DEBUG",
                    "DJANGO_READ_DOT_ENV",
                )
            }
        )
        import django

        django.setup()
        from questionnaires.models import Questionnaire
        from questionnaires.selectors import questionnaire_definition

        definition = questionnaire_definition(
            Questionnaire.objects.get(slug="radicalized-offenders-consultation")
        )
        steps = journey(definition)
        lock = threading.Lock()
        results = {"loads": [], "saves": [], "turns": [], "errors": 0, "floor": [], "floor_errors": 0}

        def together(target, argument_lists) -> None:
            threads = [threading.Thread(target=target, args=arguments) for arguments in argument_lists]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        def drive(respondents: list[str], into: dict) -> None:
            """Each client takes every concurrency-th respondent, one after the other."""
            together(
                respondent_run,
                [
                    (port, respondents[i :: args.concurrency], steps, into, lock)
                    for i in range(args.concurrency)
                ],
            )

        def measure_floor(seconds: float) -> float:
            count, started = len(results["floor"]), time.perf_counter()
            together(floor_run, [(port, seconds, results, lock)] * args.concurrency)
            return (len(results["floor"]) - count) / (time.perf_counter() - started)

        # Half the floor before the respondents and half after: this machine's speed drifts, and
        # the ratio to the floor should not depend on when the floor happened to be measured.
        floor_before = measure_floor(args.floor_seconds / 2)

        # A first round, not counted: the first respondents of each worker pay for compiling its
        # templates and queries once, which a server in service has long done.
        warmup_results = {"loads": [], "saves": [], "turns": [], "errors": 0}
        drive(warmup_tokens, warmup_results)

        started, client_cpu = time.perf_counter(), time.process_time()
        server_cpu, machine_cpu = process_cpu_seconds(server.pid), machine_busy_seconds()
        drive(tokens, results)
        duration = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = process_cpu_seconds(server.pid) - server_cpu
        machine_cpu = machine_busy_seconds() - machine_cpu
        floor_after = measure_floor(args.floor_seconds / 2)
        floor_rate = (floor_before + floor_after) / 2
    finally:
        server.terminate()
        server.wait(timeout=30)

    saves, loads = results["saves"], results["loads"]
    print(
        f"\n{total} respondents, {args.concurrency} at a time, gunicorn --workers {args.workers} --threads {args.threads} "
        f"--worker-class {args.worker_class}, "
        f"{len(definition.domains)} domains, {len(definition.questions)} questions"
    )
    print(
        f"floor (one INSERT):   {floor_rate:8.1f} requests/s  p50 {percentile(results['floor'], 0.5):6.1f} ms  "
        f"p95 {percentile(results['floor'], 0.95):6.1f} ms  errors {results['floor_errors']}  "
        f"(before {floor_before:.0f}, after {floor_after:.0f})"
    )
    print(
        f"page saves:           {len(saves) / duration:8.1f} saves/s     ({len(saves) / duration / floor_rate:.0%} of the floor)"
    )
    print(
        f"page loads  (ms):     p50 {percentile(loads, 0.5):6.1f}  p95 {percentile(loads, 0.95):6.1f}  p99 {percentile(loads, 0.99):6.1f}"
    )
    print(
        f"page saves  (ms):     p50 {percentile(saves, 0.5):6.1f}  p95 {percentile(saves, 0.95):6.1f}  p99 {percentile(saves, 0.99):6.1f}"
    )
    turns = results["turns"]
    print(
        f"Next to next page (ms): p50 {percentile(turns, 0.5):6.1f}  p95 {percentile(turns, 0.95):6.1f}  p99 {percentile(turns, 0.99):6.1f}"
    )
    print(
        f"errors:               {results['errors']}  (warm-up: {warmup} respondents, {warmup_results['errors']} errors)"
    )
    print(
        f"mean save {statistics.mean(saves) * 1000:.1f} ms over {len(saves)} saves; wall time {duration:.1f} s"
    )
    cores = os.cpu_count() or 1
    print(
        f"CPU-seconds of the machine's {cores * duration:.1f}: busy {machine_cpu:.1f}, gunicorn {server_cpu:.1f}, "
        f"load generator {client_cpu:.1f}, the rest (PostgreSQL, kernel) {machine_cpu - server_cpu - client_cpu:.1f}"
    )
    print(
        f"per save (its page load included): {1000 * server_cpu / len(saves):.1f} ms gunicorn, "
        f"{1000 * (machine_cpu - server_cpu - client_cpu) / len(saves):.1f} ms the rest"
    )


if __name__ == "__main__":
    main()
