"""Results of a questionnaire: every closed question's counts and percentages, overall and broken
down by region, country or responsibility level (from the respondents' own answers); open answers
and the themes researchers coded in them.

Everything is counted in the database, in a handful of GROUP BY queries for a whole domain (or the
whole questionnaire), however many questions, countries or respondents there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, FilteredRelation, Max, Min, Q, Sum
from django_countries import countries

from questionnaires.engine.definition import Breakdown, Definition, QuestionDef, QuestionType, pick_text
from questionnaires.models import Questionnaire
from questionnaires.selectors import question_ids, questionnaire_definition

from .models import Answer, Response, Selection, Theme, ThemeTag, pseudonym
from .presenters import country_name, country_names
from .regions import REGIONS, region_of

ONE_DECIMAL = Decimal("0.1")
ROUNDING_RULE = (
    "Percentages are rounded half up to one decimal place (37 of 81 is 45.7%), so a column may add up "
    "to slightly more or less than 100%."
)


def percent(part: int, whole: int) -> Decimal | None:
    """part ÷ whole as a percentage, rounded half up to one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ResultFilters:
    wave: int | None = None
    responses: str = "all"  # "all" who started, "complete" (submitted) or "partial" (started, not submitted)
    breakdown: str = "region"  # "region", "country", "role" or "none"

    def population(self, prefix: str = "") -> Q:
        """The responses counted; `prefix` leads from the rows counted to their response. Answers and
        selections exist only for responses that started, so with no filter they need no join."""
        if prefix and self.responses == "all" and self.wave is None:
            return Q()
        condition = Q(**{f"{prefix}started_at__isnull": False})
        if self.responses == "complete":
            condition &= Q(**{f"{prefix}submitted_at__isnull": False})
        elif self.responses == "partial":
            condition &= Q(**{f"{prefix}submitted_at__isnull": True})
        if self.wave is not None:
            condition &= Q(**{f"{prefix}invitation__wave": self.wave})
        return condition


@dataclass
class Cell:
    n: int = 0
    whole: int = 0

    @property
    def percent(self) -> Decimal | None:
        return percent(self.n, self.whole)


@dataclass
class Row:
    """One option (or item, for rankings) with its count overall and in each group."""

    code: str
    label: str
    overall: Cell
    groups: list[Cell] = field(default_factory=list)
    mean_rank: Decimal | None = None
    first_place: int = 0


@dataclass
class QuestionResult:
    code: str
    text: str
    type: QuestionType
    answered: Cell
    answered_groups: list[Cell]
    rows: list[Row] = field(default_factory=list)
    matrix: list[tuple[str, list[Row]]] = field(default_factory=list)  # (item label, rows) per item
    median: str = ""
    numbers: dict[str, Any] | None = None
    themes: list[Row] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.type.is_text


@dataclass
class DomainResult:
    code: str
    title: str
    questions: list[QuestionResult]
    themes: list[Row]  # themes cited in the domain's open answers, most cited first


@dataclass
class Results:
    filters: ResultFilters
    respondents: int
    groups: list[tuple[str, str]]  # (key, label) of each column of the breakdown
    breakdown_label: str
    domains: list[DomainResult]


# --- Groups ----------------------------------------------------------------------------------


def _breakdown_question(definition: Definition, breakdown: str) -> QuestionDef | None:
    mark = {"region": Breakdown.COUNTRY, "country": Breakdown.COUNTRY, "role": Breakdown.ROLE}.get(breakdown)
    return definition.with_breakdown(mark) if mark else None


def _group_key(breakdown: str):
    """How an answer to the breakdown question maps to a column: a country to its region, else itself."""
    if breakdown == "region":
        return lambda code: region_of(code) if code else ""
    return lambda code: code or ""


def _groups(
    breakdown: str,
    question: QuestionDef | None,
    present: Iterable[str],
    language: str,
    definition: Definition,
) -> list[tuple[str, str]]:
    present = set(present) - {""}
    if question is None:
        return []
    if breakdown == "region":
        return [(region, region) for region in REGIONS if region in present]
    if breakdown == "country":
        return sorted(((code, country_name(code, language)) for code in present), key=lambda pair: pair[1])
    return [
        (option.code, pick_text(option.label, language, definition.languages))
        for option in question.options
        if option.code in present
    ]


# --- Counting --------------------------------------------------------------------------------


def results(
    questionnaire: Questionnaire,
    filters: ResultFilters,
    *,
    language: str,
    domain_codes: Iterable[str] | None = None,
) -> Results:
    """The results of the chosen domains (every domain when None)."""
    definition = questionnaire_definition(questionnaire)
    ids = question_ids(questionnaire)
    wanted = set(domain_codes) if domain_codes is not None else None
    domains = [d for d in definition.domains if wanted is None or d.code in wanted]
    questions = [q for d in domains for q in d.questions]
    qids = [ids[q.code] for q in questions]
    code_of = {ids[q.code]: q.code for q in questions}
    breakdown_question = _breakdown_question(definition, filters.breakdown)
    group_id = ids.get(breakdown_question.code) if breakdown_question else None
    key_of = _group_key(filters.breakdown)

    def with_group(rows, prefix: str):
        """Join each row to its respondent's answer to the breakdown question (one LEFT JOIN)."""
        if group_id is None:
            return rows, None
        relation = FilteredRelation(
            f"{prefix}selections", condition=Q(**{f"{prefix}selections__question_id": group_id})
        )
        return rows.annotate(breakdown_answer=relation), "breakdown_answer__code"

    selections, group_field = with_group(
        Selection.objects.filter(filters.population("response__"), question_id__in=qids), "response__"
    )
    selection_rows = selections.values(
        "question_id", "item", "code", *([group_field] if group_field else [])
    ).annotate(
        # Counted by response (never null) rather than id, which the covering index does not hold.
        n=Count("response_id"),
        rank_sum=Sum("rank"),
        first=Count("response_id", filter=Q(rank=1)),
    )
    answers, answer_group = with_group(
        Answer.objects.filter(filters.population("response__"), question_id__in=qids), "response__"
    )
    answered_rows = answers.values("question_id", *([answer_group] if answer_group else [])).annotate(
        n=Count("response_id")
    )
    number_ids = [ids[q.code] for q in questions if q.type is QuestionType.NUMBER]
    number_rows = (
        Answer.objects.filter(filters.population("response__"), question_id__in=number_ids)
        .values("question_id")
        .annotate(n=Count("response_id"), total=Sum("number"), low=Min("number"), high=Max("number"))
        if number_ids
        else []
    )
    text_ids = [ids[q.code] for q in questions if q.type.is_text]
    tags, tag_group = with_group(
        ThemeTag.objects.filter(
            filters.population("answer__response__"),
            answer__question_id__in=text_ids,
        ),
        "answer__response__",
    )
    theme_rows = (
        tags.values("answer__question_id", "theme_id", *([tag_group] if tag_group else [])).annotate(
            n=Count("answer__response_id", distinct=True)
        )
        if text_ids
        else []
    )
    # Per domain, each respondent once per theme, however many of its questions cite it.
    domain_theme_rows = (
        ThemeTag.objects.filter(filters.population("answer__response__"), answer__question_id__in=text_ids)
        .values("answer__question__domain__code", "theme_id")
        .annotate(n=Count("answer__response_id", distinct=True))
        if text_ids
        else []
    )
    respondents = Response.objects.filter(filters.population(), questionnaire=questionnaire).count()

    # Fold the rows into per-question counters.
    counts: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    present_groups: set[str] = set()
    for row in selection_rows:
        group = key_of(row.get(group_field, "")) if group_field else ""
        present_groups.add(group)
        slot = counts[code_of[row["question_id"]]].setdefault(
            (row["item"], row["code"]), {"n": 0, "rank_sum": 0, "first": 0, "groups": defaultdict(int)}
        )
        slot["n"] += row["n"]
        slot["rank_sum"] += row["rank_sum"] or 0
        slot["first"] += row["first"]
        slot["groups"][group] += row["n"]
    answered: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in answered_rows:
        group = key_of(row.get(answer_group, "")) if answer_group else ""
        present_groups.add(group)
        answered[code_of[row["question_id"]]]["*"] += row["n"]
        answered[code_of[row["question_id"]]][group] += row["n"]
    numbers = {code_of[row["question_id"]]: row for row in number_rows}
    theme_names = dict(Theme.objects.filter(questionnaire=questionnaire).values_list("pk", "name"))
    themes: dict[str, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for row in theme_rows:
        group = key_of(row.get(tag_group, "")) if tag_group else ""
        by_theme = themes[code_of[row["answer__question_id"]]][row["theme_id"]]
        by_theme["*"] += row["n"]
        by_theme[group] += row["n"]

    domain_themes: dict[str, list[Row]] = defaultdict(list)
    for row in domain_theme_rows:
        name = theme_names.get(row["theme_id"], "")
        domain_themes[row["answer__question__domain__code"]].append(
            Row(str(row["theme_id"]), name, Cell(row["n"], 0))
        )
    groups = _groups(filters.breakdown, breakdown_question, present_groups, language, definition)
    domain_results = []
    for domain in domains:
        question_results = [
            _question_result(
                question,
                definition,
                language,
                groups,
                counts[question.code],
                answered[question.code],
                numbers.get(question.code),
                themes[question.code],
                theme_names,
            )
            for question in domain.questions
        ]
        domain_results.append(
            DomainResult(
                code=domain.code,
                title=pick_text(domain.title, language, definition.languages),
                questions=question_results,
                themes=sorted(domain_themes[domain.code], key=lambda r: (-r.overall.n, r.label)),
            )
        )
    breakdown_label = {
        "region": "Region",
        "country": "Country",
        "role": pick_text(breakdown_question.text, language, definition.languages)
        if breakdown_question
        else "",
    }.get(filters.breakdown, "")
    return Results(filters, respondents, groups, breakdown_label, domain_results)


def _question_result(
    question: QuestionDef,
    definition: Definition,
    language: str,
    groups: list[tuple[str, str]],
    counted: dict[tuple[str, str], dict[str, Any]],
    answered: dict[str, int],
    numbers: dict[str, Any] | None,
    themes: dict[int, dict[str, int]],
    theme_names: dict[int, str],
) -> QuestionResult:
    def text(texts) -> str:
        return pick_text(texts, language, definition.languages)

    total = answered.get("*", 0)
    result = QuestionResult(
        code=question.code,
        text=text(question.text),
        type=question.type,
        answered=Cell(total, total),
        answered_groups=[Cell(answered.get(key, 0), answered.get(key, 0)) for key, _ in groups],
    )

    def row(code: str, label: str, slot: dict[str, Any] | None) -> Row:
        slot = slot or {"n": 0, "groups": {}, "rank_sum": 0, "first": 0}
        return Row(
            code=code,
            label=label,
            overall=Cell(slot["n"], total),
            groups=[Cell(slot["groups"].get(key, 0), answered.get(key, 0)) for key, _ in groups],
        )

    kind = question.type
    if kind is QuestionType.COUNTRY:
        result.rows = sorted(
            (row(code, country_name(code, language), slot) for (_, code), slot in counted.items()),
            key=lambda r: (-r.overall.n, r.label),
        )
    elif kind.takes_one_code or kind is QuestionType.MULTIPLE_CHOICE:
        result.rows = [row(o.code, text(o.label), counted.get(("", o.code))) for o in question.options]
        if kind is QuestionType.LIKERT:
            result.median = _median(result.rows)
    elif kind is QuestionType.MATRIX:
        # Each item's percentages are of those who rated that item (a row may be left out).
        for item in question.items:
            slots = [counted.get((item.code, o.code)) or {"n": 0, "groups": {}} for o in question.options]
            rated = sum(slot["n"] for slot in slots)
            rated_in = {key: sum(slot["groups"].get(key, 0) for slot in slots) for key, _ in groups}
            item_rows = [
                Row(
                    code=o.code,
                    label=text(o.label),
                    overall=Cell(slot["n"], rated),
                    groups=[Cell(slot["groups"].get(key, 0), rated_in[key]) for key, _ in groups],
                )
                for o, slot in zip(question.options, slots, strict=True)
            ]
            result.matrix.append((text(item.label), item_rows))
    elif kind is QuestionType.RANKING:
        for item in question.items:
            slot = counted.get((item.code, ""))
            ranked = row(item.code, text(item.label), slot)
            if slot and slot["n"]:
                ranked.mean_rank = (Decimal(slot["rank_sum"]) / slot["n"]).quantize(
                    Decimal("0.01"), ROUND_HALF_UP
                )
                ranked.first_place = slot["first"]
            result.rows.append(ranked)
        result.rows.sort(key=lambda r: (r.mean_rank is None, r.mean_rank or 0))
    elif kind is QuestionType.NUMBER and numbers:
        mean = (
            (Decimal(numbers["total"]) / numbers["n"]).quantize(ONE_DECIMAL, ROUND_HALF_UP)
            if numbers["n"]
            else None
        )
        result.numbers = {"n": numbers["n"], "mean": mean, "min": numbers["low"], "max": numbers["high"]}
    if kind.is_text:
        result.themes = sorted(
            (
                Row(
                    code=str(theme_id),
                    label=theme_names.get(theme_id, ""),
                    overall=Cell(by_group.get("*", 0), total),
                    groups=[Cell(by_group.get(key, 0), answered.get(key, 0)) for key, _ in groups],
                )
                for theme_id, by_group in themes.items()
            ),
            key=lambda r: (-r.overall.n, r.label),
        )
    return result


def _median(rows: list[Row]) -> str:
    """The scale point where half of the answers are reached (the lower one on an exact half)."""
    total = sum(row.overall.n for row in rows)
    if not total:
        return ""
    running = 0
    for row in rows:
        running += row.overall.n
        if running * 2 >= total:
            return row.label
    return ""


# --- Open answers ----------------------------------------------------------------------------


@dataclass
class OpenAnswer:
    answer_id: int
    respondent: str
    country: str
    country_name: str
    region: str
    text: str
    themes: list[tuple[int, str]]


def open_answers(
    questionnaire: Questionnaire,
    question_code: str,
    filters: ResultFilters,
    *,
    country: str = "",
    region: str = "",
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[OpenAnswer], int]:
    """A text question's answers with each respondent's country (their own answer) and themes."""
    definition = questionnaire_definition(questionnaire)
    ids = question_ids(questionnaire)
    country_question = definition.with_breakdown(Breakdown.COUNTRY)
    rows = Answer.objects.filter(filters.population("response__"), question_id=ids[question_code])
    if country_question is not None:
        rows = rows.annotate(
            country_answer=FilteredRelation(
                "response__selections",
                condition=Q(response__selections__question_id=ids[country_question.code]),
            )
        )
        country_field = "country_answer__code"
    else:
        country_field = "response__invitation__country"
    if country:
        rows = rows.filter(**{country_field: country})
    elif region:
        members = [code for code, _ in countries if region_of(code) == region]
        rows = rows.filter(**{f"{country_field}__in": members})
    total = rows.count()
    page = list(
        rows.order_by("response__invitation__number").values_list(
            "pk", "response__invitation__number", country_field, "value"
        )[offset : offset + limit]
    )
    tags = defaultdict(list)
    for answer_id, theme_id, name in ThemeTag.objects.filter(answer_id__in=[p[0] for p in page]).values_list(
        "answer_id", "theme_id", "theme__name"
    ):
        tags[answer_id].append((theme_id, name))
    names = country_names(questionnaire.default_language)
    return [
        OpenAnswer(
            answer_id=pk,
            respondent=pseudonym(number),
            country=code or "",
            country_name=names.get(code, code or ""),
            region=region_of(code) if code else "",
            text=value if isinstance(value, str) else str(value),
            themes=sorted(tags[pk], key=lambda pair: pair[1]),
        )
        for pk, number, code, value in page
    ], total


# --- The report's sample ---------------------------------------------------------------------------


def _and_list(parts: list[str]) -> str:
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def sample_composition(questionnaire: Questionnaire) -> dict:
    """Who completed: how many, from how many countries, when, and each region's share (from the
    respondents' own answers to the country question)."""
    completed = Response.objects.filter(questionnaire=questionnaire, submitted_at__isnull=False)
    span = completed.aggregate(n=Count("id"), first=Min("submitted_at"), last=Max("submitted_at"))
    definition = questionnaire_definition(questionnaire)
    country_question = definition.with_breakdown(Breakdown.COUNTRY)
    by_country: dict[str, int] = {}
    if country_question is not None:
        by_country = dict(
            Selection.objects.filter(
                question_id=question_ids(questionnaire)[country_question.code],
                response__submitted_at__isnull=False,
            )
            .values_list("code")
            .annotate(n=Count("response_id"))  # from the covering index
            .order_by()
        )
    by_region: dict[str, int] = {}
    for code, n in by_country.items():
        by_region[region_of(code)] = by_region.get(region_of(code), 0) + n
    answered = sum(by_country.values())
    regions = sorted(
        ((region, n, percent(n, answered)) for region, n in by_region.items()),
        key=lambda row: (-row[1], row[0]),
    )
    return {
        "n": span["n"],
        "countries": len(by_country),
        "first": span["first"],
        "last": span["last"],
        "answered_country": answered,
        "regions": regions,
        "regions_sentence": _and_list([f"{region} ({share}%)" for region, _, share in regions]),
    }
