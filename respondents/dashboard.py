"""Reads for the monitoring dashboard: every figure is aggregated in the database.

A fixed number of queries per page, however many countries, waves or seeds: each breakdown is one
GROUP BY over invitations (or over the Selection rows of a breakdown question), folded into regions
in Python from the per-country rows (at most ~250).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone, translation

from questionnaires.engine.definition import Breakdown, pick_text
from questionnaires.models import Question, Questionnaire
from questionnaires.selectors import questionnaire_definition

from .models import Invitation, OutboxMessage, Response, Selection
from .presenters import country_name, wave_label
from .regions import REGIONS, region_of
from .selectors import Chain, chain_summaries, largest_chain_seeds

logger = logging.getLogger(__name__)

SEEDS_SHOWN = 50
# A snapshot is served, stale or not, until a refresh replaces it; after a day without any, the
# next visitor computes the figures again.
SNAPSHOT_KEPT_SECONDS = 24 * 60 * 60
# One refresh at a time per snapshot; if its worker dies, another may be asked after this long.
REFRESH_CLAIM_SECONDS = 5 * 60
# Past this age a snapshot is never served: the request computes the figures (workers are missing).
STALE_LIMIT_SECONDS = 10 * 60

STATUS_COUNTS = {
    "invited": Count("id"),
    "delivered": Count("id", filter=Q(emailed_at__isnull=False)),
    "failed": Count("id", filter=Q(email_failed_at__isnull=False)),
    "consented": Count("id", filter=Q(consented_at__isnull=False)),
    "started": Count("id", filter=Q(started_at__isnull=False)),
    "completed": Count("id", filter=Q(status=Invitation.Status.COMPLETED)),
    "declined": Count("id", filter=Q(status=Invitation.Status.DECLINED)),
    "opted_out": Count("id", filter=Q(opted_out_at__isnull=False)),
}


@dataclass
class Tally:
    """Counts for one group (a country, a wave …) and the two rates."""

    label: str
    invited: int = 0
    delivered: int = 0
    failed: int = 0
    consented: int = 0
    started: int = 0
    completed: int = 0
    declined: int = 0
    opted_out: int = 0
    note: str = ""

    @property
    def response_rate(self) -> float | None:
        """Completed ÷ invited."""
        return self.completed / self.invited if self.invited else None

    @property
    def completion_rate(self) -> float | None:
        """Completed ÷ started."""
        return self.completed / self.started if self.started else None

    def add(self, other: Tally) -> None:
        for name in STATUS_COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            **{name: getattr(self, name) for name in STATUS_COUNTS},
            "response_rate": self.response_rate,
            "completion_rate": self.completion_rate,
            "note": self.note,
        }


@dataclass
class AnswerTally:
    label: str
    started: int
    completed: int

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.started if self.started else None


@dataclass
class Dashboard:
    total: Tally
    by_country: list[Tally]
    by_region: list[Tally]
    by_wave: list[Tally]
    by_seed: list[Tally]  # the SEEDS_SHOWN largest chains
    seed_count: int
    by_answer: dict[str, tuple[str, list[AnswerTally]]]  # breakdown -> (question text, rows)
    timeline: list[dict]
    reminder_days: list[date]
    after_reminders: list[dict]
    drop_off: list[dict]
    largest_seeds: list[int]  # ids of the SEEDS_SHOWN largest chains' seeds, largest first
    recruitment: tuple[list[str], list[list[int]]]  # recruitment_matrix
    computed_at: datetime | None = None
    notes: list[str] = field(default_factory=list)


def _tallies(rows, label) -> list[Tally]:
    return [Tally(label=label(row), **{name: row[name] for name in STATUS_COUNTS}) for row in rows]


def dashboard(questionnaire: Questionnaire, language: str = "en") -> Dashboard:
    """The figures in `language` whoever computes them: a staff request in either language, or a
    Celery worker, which speaks the default one (the snapshot is kept per language)."""
    with translation.override(language):
        return _figures(questionnaire, language)


def _figures(questionnaire: Questionnaire, language: str) -> Dashboard:
    invitations = Invitation.objects.filter(questionnaire=questionnaire).order_by()
    # One scan for the headline, countries, regions and waves: a row per (country, wave) pair, at
    # most a few hundred, folded in Python.
    cells = list(invitations.values("country", "wave").annotate(**STATUS_COUNTS))
    total = Tally(label="All")
    countries_: dict[str, Tally] = {}
    regions = {name: Tally(label=name) for name in REGIONS}
    waves: dict[int, Tally] = {}
    for row in cells:
        tally = Tally(label="", **{name: row[name] for name in STATUS_COUNTS})
        total.add(tally)
        countries_.setdefault(row["country"], Tally(label=row["country"])).add(tally)
        regions[region_of(row["country"])].add(tally)
        waves.setdefault(row["wave"], Tally(label=wave_label(row["wave"]))).add(tally)

    largest = largest_chain_seeds(questionnaire, SEEDS_SHOWN)
    elsewhere = _answered_another_country(questionnaire)
    by_country = []
    for code, tally in countries_.items():
        if elsewhere.get(code):
            tally.note = f"{elsewhere[code]} answered another country"
        tally.label = country_name(code, language) if code else "Unknown"
        by_country.append(tally)
    by_country.sort(key=lambda tally: (-tally.invited, tally.label))
    return Dashboard(
        seed_count=waves[0].invited if 0 in waves else 0,
        total=total,
        by_country=by_country,
        by_region=[tally for tally in regions.values() if tally.invited],
        by_wave=[waves[wave] for wave in sorted(waves)],
        by_seed=_by_seed(questionnaire, largest),
        largest_seeds=largest,
        recruitment=recruitment_matrix(questionnaire),
        by_answer=_by_answer(questionnaire, language),
        **_timeline(questionnaire, invitations),
        drop_off=_drop_off(questionnaire, language),
        computed_at=timezone.now(),
    )


def dashboard_snapshot(questionnaire: Questionnaire, language: str) -> Dashboard:
    """The figures everyone watching reads: one snapshot per questionnaire and language.

    A snapshot older than DASHBOARD_SECONDS is still served while a Celery worker computes the next
    (one task at a time per snapshot), so a page waits for the figures only the first time anyone
    opens them. The request computes them itself when no worker can help: tasks run in-process, the
    cache is not shared with the workers, the broker cannot take the task, or a snapshot has grown
    older than STALE_LIMIT_SECONDS (a worker that never came). Without a cache, every request does.
    """
    key = _snapshot_key(questionnaire, language)
    try:
        figures = cache.get(key)
    except Exception:  # the cache is down: compute, as without it
        logger.warning("Dashboard cache unreachable", exc_info=True)
        return dashboard(questionnaire, language)
    if figures is None:
        return dashboard_refresh(questionnaire, language)
    age = (timezone.now() - figures.computed_at).total_seconds()
    if age <= settings.DASHBOARD_SECONDS:
        return figures
    if age > STALE_LIMIT_SECONDS or not _workers_share_the_cache():
        return dashboard_refresh(questionnaire, language)
    return _refresh_later(questionnaire, language) or figures


def dashboard_refresh(questionnaire: Questionnaire, language: str) -> Dashboard:
    """Compute the figures and keep them as the snapshot (for a day unless refreshed sooner)."""
    figures = dashboard(questionnaire, language)
    key = _snapshot_key(questionnaire, language)
    try:
        cache.set(key, figures, SNAPSHOT_KEPT_SECONDS)
        cache.delete(refresh_claim_key(questionnaire, language))  # the next old snapshot may ask again
    except Exception:
        logger.warning("Dashboard cache unreachable", exc_info=True)
    return figures


def _snapshot_key(questionnaire: Questionnaire, language: str) -> str:
    # The version changes with the snapshot's fields, so a deployment never reads an older shape.
    return f"dashboard:v2:{questionnaire.pk}:{questionnaire.revision}:{language}"


def refresh_claim_key(questionnaire: Questionnaire, language: str) -> str:
    """Held while one worker computes the snapshot's next figures."""
    return f"{_snapshot_key(questionnaire, language)}:refreshing"


def _workers_share_the_cache() -> bool:
    """A worker's figures reach the web processes only through a cache they share (Redis, not memory)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def _refresh_later(questionnaire: Questionnaire, language: str) -> Dashboard | None:
    """Ask a worker for new figures, unless one is already on it; returns figures computed here
    instead if the broker is unreachable."""
    from .tasks import refresh_dashboard_task

    claim = refresh_claim_key(questionnaire, language)
    try:
        if not cache.add(claim, True, REFRESH_CLAIM_SECONDS):
            return None  # another request asked already
    except Exception:
        logger.warning("Dashboard cache unreachable", exc_info=True)
        return None
    try:
        refresh_dashboard_task.delay(questionnaire.pk, language)
    except Exception:  # the broker is down: no worker will come, so compute here
        logger.warning("Could not queue the dashboard refresh; computing it now", exc_info=True)
        return dashboard_refresh(questionnaire, language)
    return None


def _by_seed(questionnaire: Questionnaire, largest: list[int]) -> list[Tally]:
    """The largest chains only (`largest`: their seeds' ids), tallied from their members by index."""
    rows = (
        Invitation.objects.filter(Q(pk__in=largest) | Q(seed_id__in=largest))
        .annotate(chain=Coalesce("seed_id", "id"))
        .values("chain")
        .annotate(**STATUS_COUNTS)
        .order_by()
    )
    seeds = Invitation.objects.filter(pk__in=largest).only("number", "country").in_bulk()
    tallies = _tallies(rows, lambda row: seeds[row["chain"]].pseudonym)
    return sorted(tallies, key=lambda tally: (-tally.invited, tally.label))


def _answered_another_country(questionnaire: Questionnaire) -> dict[str, int]:
    """Per invitation country: respondents whose own answer to the country question differs."""
    question = Question.objects.filter(questionnaire=questionnaire, breakdown=Breakdown.COUNTRY).first()
    if question is None:
        return {}
    rows = (
        Selection.objects.filter(question=question)
        .exclude(code=F("response__invitation__country"))
        .values("response__invitation__country")
        .annotate(count=Count("response_id"))
        .order_by()
    )
    return {row["response__invitation__country"]: row["count"] for row in rows}


def _by_answer(questionnaire: Questionnaire, language: str) -> dict[str, tuple[str, list[AnswerTally]]]:
    """Started and completed among those who answered each role and site-type question."""
    definition = questionnaire_definition(questionnaire)
    result = {}
    marked = Question.objects.filter(
        questionnaire=questionnaire, breakdown__in=[Breakdown.ROLE, Breakdown.SITE_TYPE]
    ).order_by("breakdown")
    for question in marked:
        spec = definition.question(question.code)
        labels = {
            option.code: pick_text(option.label, language, definition.languages) for option in spec.options
        }
        rows = (
            Selection.objects.filter(question=question)
            .values("code")
            # One selection per response for these single-choice questions: no DISTINCT needed.
            .annotate(
                started=Count("response_id"),
                completed=Count("response_id", filter=Q(response__submitted_at__isnull=False)),
            )
            .order_by()
        )
        counts = {row["code"]: row for row in rows}
        result[question.breakdown] = (
            pick_text(spec.text, language, definition.languages),
            [
                AnswerTally(
                    label=labels[code], started=counts[code]["started"], completed=counts[code]["completed"]
                )
                for code in labels
                if code in counts
            ],
        )
    return result


def _timeline(questionnaire: Questionnaire, invitations: QuerySet[Invitation]) -> dict:
    """Invitations, starts and completions per day; reminder days; completions in the week after each."""
    days: dict[date, dict[str, int]] = defaultdict(lambda: {"invited": 0, "started": 0, "completed": 0})
    # One scan: a row per (invited, started, completed) combination of days, folded per day.
    rows = (
        invitations.annotate(
            invited_on=TruncDate("created_at"),
            started_on=TruncDate("started_at"),
            completed_on=TruncDate("completed_at"),
        )
        .values("invited_on", "started_on", "completed_on")
        .annotate(count=Count("id"))
    )
    for row in rows:
        for key in ("invited", "started", "completed"):
            if row[f"{key}_on"] is not None:
                days[row[f"{key}_on"]][key] += row["count"]
    reminder_days = sorted(
        row["day"]
        for row in OutboxMessage.objects.filter(
            questionnaire=questionnaire,
            kind__in=[OutboxMessage.Kind.REMINDER, OutboxMessage.Kind.CLOSING],
            sent_at__isnull=False,
        )
        .annotate(day=TruncDate("sent_at"))
        .values("day")
        .distinct()
        .order_by()
    )
    timeline = [{"day": day, **days[day], "reminder": day in reminder_days} for day in sorted(days)]
    after = [
        {
            "day": day,
            "completed": sum(
                days[day + timedelta(days=offset)]["completed"]
                for offset in range(7)
                if day + timedelta(days=offset) in days
            ),
        }
        for day in reminder_days
    ]
    return {"timeline": timeline, "reminder_days": reminder_days, "after_reminders": after}


def _drop_off(questionnaire: Questionnaire, language: str) -> list[dict]:
    """Where unfinished respondents stopped: the last domain they saved."""
    definition = questionnaire_definition(questionnaire)
    rows = (
        Response.objects.filter(
            questionnaire=questionnaire, submitted_at__isnull=True, started_at__isnull=False
        )
        .values("last_domain")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = {row["last_domain"]: row["count"] for row in rows}
    return [
        {
            "domain": pick_text(domain.title, language, definition.languages),
            "stopped": counts.get(domain.code, 0),
        }
        for domain in definition.domains
    ]


# --- The recruitment tree ---------------------------------------------------------------------------


@dataclass
class ChainNode:
    invitation: Invitation
    children: list[ChainNode] = field(default_factory=list)
    x: int = 0
    y: int = 0

    @property
    def label(self) -> str:
        return f"{self.invitation.pseudonym} · {self.invitation.get_status_display().lower()}"


def chain_summaries_top(
    questionnaire: Questionnaire, largest: list[int], *, also: int | None = None
) -> list[Chain]:
    """The chains of the seeds `largest` (ids, as the dashboard's snapshot keeps them), and the chain
    of seed number `also` wherever it ranks, largest first."""
    seeds = Invitation.objects.filter(questionnaire=questionnaire, wave=0).filter(
        Q(pk__in=largest) | Q(number=also) if also is not None else Q(pk__in=largest)
    )
    return sorted(
        chain_summaries(questionnaire, list(seeds)), key=lambda chain: (-chain.size, chain.seed.number)
    )


def recruitment_matrix(questionnaire: Questionnaire) -> tuple[list[str], list[list[int]]]:
    """Nominations from each region (rows) to each region (columns), from one GROUP BY on countries."""
    rows = (
        Invitation.objects.filter(questionnaire=questionnaire, nominated_by__isnull=False)
        .values("nominated_by__country", "country")
        .annotate(count=Count("id"))
        .order_by()
    )
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        cells[region_of(row["nominated_by__country"]), region_of(row["country"])] += row["count"]
    used = [name for name in REGIONS if any(name in pair for pair in cells)]
    return used, [[cells[source, target] for target in used] for source in used]


NODE_WIDTH, NODE_HEIGHT, COLUMN, ROW = 230, 22, 260, 30


def chain_tree(questionnaire: Questionnaire, seed: Invitation) -> tuple[ChainNode, int, int]:
    """One seed's whole chain (one query), laid out left to right by wave, one row per member in
    depth-first order; returns the root and the drawing's width and height."""
    members = list(
        Invitation.objects.filter(Q(pk=seed.pk) | Q(seed=seed), questionnaire=questionnaire).order_by(
            "wave", "number"
        )
    )
    nodes = {member.pk: ChainNode(member) for member in members}
    root = nodes[seed.pk]
    for member in members:
        if member.nominated_by_id in nodes and member.pk != seed.pk:
            nodes[member.nominated_by_id].children.append(nodes[member.pk])
    row = 0
    stack = [root]
    deepest = 0
    while stack:
        node = stack.pop()
        node.x, node.y = 10 + node.invitation.wave * COLUMN, 10 + row * ROW
        deepest = max(deepest, node.invitation.wave)
        row += 1
        stack.extend(reversed(node.children))
    return root, 20 + deepest * COLUMN + NODE_WIDTH, 20 + row * ROW


def tree_nodes(root: ChainNode):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))
