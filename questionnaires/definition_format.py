"""The questionnaire definition's JSON format (docs/questionnaire-format.md), read and written.

Reading checks the structure and collects every problem with its JSON path; the engine's checks
then look at the meaning (codes, conditions, translations). Writing is deterministic: the same
questionnaire always gives the same bytes, so export → import → export is identical.
"""

from __future__ import annotations

import json
import math
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .engine.checks import Problem
from .engine.definition import (
    Breakdown,
    ChoiceDef,
    Definition,
    DomainDef,
    QuestionDef,
    QuestionType,
    Texts,
)

FORMAT_NAME = "consultation.questionnaire"
FORMAT_VERSION = 1
MAX_NOMINATION_QUOTA = 20
MAX_REMINDERS = 10


@dataclass(frozen=True)
class ReminderPolicy:
    """When reminders go out: days after the invitation, a cap, closing soon, mail hours and weekdays."""

    after_days: tuple[int, ...] = (7, 14)
    limit: int = 3
    closing_soon_days: int = 3  # 0: none
    mail_hours: tuple[int, int] = (8, 18)  # [first hour, end hour) in the questionnaire's time zone
    mail_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # 0 is Monday

    def problems(self) -> list[tuple[str, str]]:
        """(key, message) for each rule broken; empty when the policy is usable."""
        found = []
        days = self.after_days
        if any(not 1 <= day <= 365 for day in days) or list(days) != sorted(set(days)):
            found.append(("after_days", "days between 1 and 365, in increasing order, each once"))
        if not 0 <= self.limit <= MAX_REMINDERS:
            found.append(("limit", f"between 0 and {MAX_REMINDERS}"))
        if not 0 <= self.closing_soon_days <= 60:
            found.append(("closing_soon_days", "between 0 (none) and 60"))
        first, end = self.mail_hours
        if not 0 <= first < end <= 24:
            found.append(
                ("mail_hours", "two hours from 0 to 24, the first before the second, such as [8, 18]")
            )
        weekdays = self.mail_weekdays
        if (
            not weekdays
            or any(not 0 <= day <= 6 for day in weekdays)
            or list(weekdays) != sorted(set(weekdays))
        ):
            found.append(("mail_weekdays", "weekday numbers 0 (Monday) to 6 (Sunday), in order, each once"))
        return found


# yes / no / don't know questions may leave out their choices: these are filled in.
YES_NO_DK_CHOICES = (
    ChoiceDef("YES", {"en": "Yes", "fr": "Oui"}, 1),
    ChoiceDef("NO", {"en": "No", "fr": "Non"}, 0),
    ChoiceDef("DK", {"en": "Don't know", "fr": "Je ne sais pas"}, 9),
)

TOP_KEYS = {
    "format",
    "format_version",
    "slug",
    "languages",
    "title",
    "organisation",
    "introduction",
    "consent",
    "schedule",
    "recruitment",
    "reminders",
    "domains",
}
DOMAIN_KEYS = {"code", "title", "description", "condition", "questions"}
QUESTION_KEYS = {
    "code",
    "type",
    "text",
    "help",
    "required",
    "breakdown",
    "condition",
    "min_value",
    "max_value",
    "integer_only",
    "max_length",
    "min_choices",
    "max_choices",
    "choices",
    "items",
}
CHOICE_KEYS = {"code", "value", "label", "other"}
ITEM_KEYS = {"code", "label"}


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number this format accepts")


def _bounded_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def strict_json_loads(text: str) -> Any:
    """JSON as the format accepts it: no NaN or Infinity, no number too large to store. Raises
    ValueError (json.JSONDecodeError for syntax) with a message for people."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_bounded_float)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError):
            raise
        raise ValueError(f"not a usable number: {error}") from None


class DefinitionError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass
class QuestionnaireDocument:
    """Everything a definition file holds: the engine's definition plus the questionnaire's settings."""

    definition: Definition
    organisation: Texts = field(default_factory=dict)
    introduction: Texts = field(default_factory=dict)
    consent_text: Texts = field(default_factory=dict)
    consent_version: int = 1
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    time_zone: str = "UTC"
    nomination_quota: int = 3
    reminders: ReminderPolicy = ReminderPolicy()


class _Reader:
    """Reads a decoded JSON document, noting each structural problem with its path instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def keys(self, path: str, node: Mapping, allowed: set[str]) -> None:
        for key in sorted(set(node) - allowed):
            self.problem(f"{path}.{key}", "unknown key")

    def obj(self, path: str, node: Any) -> Mapping | None:
        if not isinstance(node, Mapping):
            self.problem(path, f"expected an object, found {_kind(node)}")
            return None
        return node

    def texts(self, path: str, node: Any, *, required: bool = False) -> dict[str, str]:
        if node is None and not required:
            return {}
        if not isinstance(node, Mapping):
            self.problem(path, f'expected texts by language such as {{"en": "..."}}, found {_kind(node)}')
            return {}
        texts = {}
        for language, text in node.items():
            if not isinstance(text, str):
                self.problem(f"{path}.{language}", f"expected a string, found {_kind(text)}")
            else:
                texts[language] = text
        return texts

    def string(self, path: str, node: Any) -> str:
        if not isinstance(node, str):
            self.problem(path, f"expected a string, found {_kind(node)}")
            return ""
        return node

    def boolean(self, path: str, node: Any, default: bool = False) -> bool:
        if node is None:
            return default
        if not isinstance(node, bool):
            self.problem(path, f"expected true or false, found {_kind(node)}")
            return default
        return node

    def integer(self, path: str, node: Any, *, minimum: int | None = None) -> int | None:
        if node is None:
            return None
        if isinstance(node, bool) or not isinstance(node, int):
            self.problem(path, f"expected a whole number, found {_kind(node)}")
            return None
        if minimum is not None and node < minimum:
            self.problem(path, f"must be at least {minimum}")
            return None
        if abs(node) >= 2**31:
            self.problem(path, "the number is too large")
            return None
        return node

    def number(self, path: str, node: Any) -> Decimal | None:
        if node is None:
            return None
        if isinstance(node, bool) or not isinstance(node, int | float):
            self.problem(path, f"expected a number, found {_kind(node)}")
            return None
        if isinstance(node, float) and not math.isfinite(node):
            self.problem(path, "expected a finite number")
            return None
        value = Decimal(str(node))
        if abs(value) >= Decimal(10) ** 14:
            self.problem(path, "the number is too large")
            return None
        return value

    def moment(self, path: str, node: Any) -> datetime | None:
        if node is None:
            return None
        if not isinstance(node, str):
            self.problem(path, f"expected a date-time such as 2026-09-01T00:00:00Z, found {_kind(node)}")
            return None
        try:
            moment = datetime.fromisoformat(node)
        except ValueError:
            self.problem(path, f"{node!r} is not a date-time such as 2026-09-01T00:00:00Z")
            return None
        if moment.tzinfo is None:
            self.problem(path, "give the time zone offset, for example 2026-09-01T00:00:00Z")
            return None
        return moment.astimezone(UTC)

    def array(self, path: str, node: Any) -> list:
        if node is None:
            return []
        if not isinstance(node, list):
            self.problem(path, f"expected a list, found {_kind(node)}")
            return []
        return node


def _kind(node: Any) -> str:
    if node is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(node), type(node).__name__)


def parse_document(document: Any) -> QuestionnaireDocument:
    """Read a decoded definition file. Raises DefinitionError listing every structural problem."""
    reader = _Reader()
    top = reader.obj("$", document)
    if top is None:
        raise DefinitionError(reader.problems)
    reader.keys("$", top, TOP_KEYS)
    if top.get("format") != FORMAT_NAME:
        reader.problem("$.format", f"expected {FORMAT_NAME!r}: is this a questionnaire definition?")
    if top.get("format_version") != FORMAT_VERSION:
        reader.problem("$.format_version", f"this platform reads format version {FORMAT_VERSION}")

    slug = reader.string("$.slug", top.get("slug"))
    if slug and not _is_slug(slug):
        reader.problem("$.slug", "use lower-case letters, digits and hyphens (at most 80)")
    languages = tuple(reader.array("$.languages", top.get("languages")))

    consent = reader.obj("$.consent", top.get("consent", {"version": 1, "text": {}})) or {}
    reader.keys("$.consent", consent, {"version", "text"})
    schedule = reader.obj("$.schedule", top.get("schedule", {})) or {}
    reader.keys("$.schedule", schedule, {"opens_at", "closes_at", "time_zone"})
    time_zone = reader.string("$.schedule.time_zone", schedule.get("time_zone", "UTC"))
    if time_zone and time_zone not in zoneinfo.available_timezones():
        reader.problem("$.schedule.time_zone", f"{time_zone!r} is not a known time zone such as Europe/Paris")
    opens_at = reader.moment("$.schedule.opens_at", schedule.get("opens_at"))
    closes_at = reader.moment("$.schedule.closes_at", schedule.get("closes_at"))
    if opens_at and closes_at and closes_at <= opens_at:
        reader.problem("$.schedule.closes_at", "the closing date must come after the opening date")

    recruitment = reader.obj("$.recruitment", top.get("recruitment", {})) or {}
    reader.keys("$.recruitment", recruitment, {"nominations_per_respondent"})
    nomination_quota = reader.integer(
        "$.recruitment.nominations_per_respondent",
        recruitment.get("nominations_per_respondent", 3),
        minimum=0,
    )
    if nomination_quota is not None and nomination_quota > MAX_NOMINATION_QUOTA:
        reader.problem("$.recruitment.nominations_per_respondent", f"at most {MAX_NOMINATION_QUOTA}")

    reminders = _read_reminders(reader, top.get("reminders", {}))

    domains = [
        _read_domain(reader, f"$.domains[{index}]", node)
        for index, node in enumerate(reader.array("$.domains", top.get("domains")))
    ]
    parsed = QuestionnaireDocument(
        definition=Definition(
            slug=slug,
            languages=languages,
            title=reader.texts("$.title", top.get("title"), required=True),
            domains=tuple(domain for domain in domains if domain is not None),
        ),
        organisation=reader.texts("$.organisation", top.get("organisation")),
        introduction=reader.texts("$.introduction", top.get("introduction")),
        consent_text=reader.texts("$.consent.text", consent.get("text")),
        consent_version=reader.integer("$.consent.version", consent.get("version", 1), minimum=1) or 1,
        opens_at=opens_at,
        closes_at=closes_at,
        time_zone=time_zone or "UTC",
        nomination_quota=nomination_quota if nomination_quota is not None else 3,
        reminders=reminders,
    )
    if reader.problems:
        raise DefinitionError(reader.problems)
    return parsed


def _read_reminders(reader: _Reader, node: Any) -> ReminderPolicy:
    path = "$.reminders"
    block = reader.obj(path, node) or {}
    reader.keys(path, block, {"after_days", "limit", "closing_soon_days", "mail_hours", "mail_weekdays"})
    default = ReminderPolicy()

    def whole_numbers(key: str, fallback: tuple[int, ...]) -> tuple[int, ...]:
        values = reader.array(f"{path}.{key}", block.get(key, list(fallback)))
        numbers = tuple(reader.integer(f"{path}.{key}[{i}]", value) for i, value in enumerate(values))
        return fallback if None in numbers else numbers

    hours = whole_numbers("mail_hours", default.mail_hours)
    if len(hours) != 2:
        reader.problem(f"{path}.mail_hours", "two hours: the first and the end, such as [8, 18]")
        hours = default.mail_hours
    limit = reader.integer(f"{path}.limit", block.get("limit", default.limit), minimum=0)
    closing = reader.integer(
        f"{path}.closing_soon_days", block.get("closing_soon_days", default.closing_soon_days), minimum=0
    )
    policy = ReminderPolicy(
        after_days=whole_numbers("after_days", default.after_days),
        limit=default.limit if limit is None else limit,
        closing_soon_days=default.closing_soon_days if closing is None else closing,
        mail_hours=(hours[0], hours[1]),
        mail_weekdays=whole_numbers("mail_weekdays", default.mail_weekdays),
    )
    for key, message in policy.problems():
        reader.problem(f"{path}.{key}", message)
    return policy


def _is_slug(slug: str) -> bool:
    return len(slug) <= 80 and all(c.islower() or c.isdigit() or c == "-" for c in slug) and slug.isascii()


def _read_domain(reader: _Reader, path: str, node: Any) -> DomainDef | None:
    domain = reader.obj(path, node)
    if domain is None:
        return None
    reader.keys(path, domain, DOMAIN_KEYS)
    questions = [
        _read_question(reader, f"{path}.questions[{index}]", entry)
        for index, entry in enumerate(reader.array(f"{path}.questions", domain.get("questions")))
    ]
    return DomainDef(
        code=reader.string(f"{path}.code", domain.get("code")),
        title=reader.texts(f"{path}.title", domain.get("title"), required=True),
        description=reader.texts(f"{path}.description", domain.get("description")),
        condition=_read_condition(reader, f"{path}.condition", domain.get("condition")),
        questions=tuple(question for question in questions if question is not None),
    )


def _read_condition(reader: _Reader, path: str, node: Any) -> Mapping | None:
    if node is None:
        return None
    if not isinstance(node, Mapping):
        reader.problem(path, f"expected a condition object, found {_kind(node)}")
        return None
    return node  # its meaning is checked against the whole definition by the engine's checks


def _read_question(reader: _Reader, path: str, node: Any) -> QuestionDef | None:
    question = reader.obj(path, node)
    if question is None:
        return None
    reader.keys(path, question, QUESTION_KEYS)
    raw_type = question.get("type")
    try:
        kind = QuestionType(raw_type)
    except ValueError:
        reader.problem(
            f"{path}.type", f"unknown question type {raw_type!r}; use one of: {', '.join(QuestionType)}"
        )
        return None
    breakdown = None
    if question.get("breakdown") is not None:
        try:
            breakdown = Breakdown(question["breakdown"])
        except ValueError:
            reader.problem(
                f"{path}.breakdown",
                f"unknown breakdown {question['breakdown']!r}; use one of: {', '.join(Breakdown)}",
            )
    options = tuple(
        choice
        for index, entry in enumerate(reader.array(f"{path}.choices", question.get("choices")))
        if (choice := _read_choice(reader, f"{path}.choices[{index}]", entry, CHOICE_KEYS)) is not None
    )
    if kind is QuestionType.YES_NO_DK and "choices" not in question:
        options = YES_NO_DK_CHOICES
    items = tuple(
        item
        for index, entry in enumerate(reader.array(f"{path}.items", question.get("items")))
        if (item := _read_choice(reader, f"{path}.items[{index}]", entry, ITEM_KEYS)) is not None
    )
    return QuestionDef(
        code=reader.string(f"{path}.code", question.get("code")),
        type=kind,
        text=reader.texts(f"{path}.text", question.get("text"), required=True),
        help=reader.texts(f"{path}.help", question.get("help")),
        required=reader.boolean(f"{path}.required", question.get("required")),
        breakdown=breakdown,
        condition=_read_condition(reader, f"{path}.condition", question.get("condition")),
        options=options,
        items=items,
        min_value=reader.number(f"{path}.min_value", question.get("min_value")),
        max_value=reader.number(f"{path}.max_value", question.get("max_value")),
        integer_only=reader.boolean(f"{path}.integer_only", question.get("integer_only")),
        max_length=reader.integer(f"{path}.max_length", question.get("max_length"), minimum=1),
        min_choices=reader.integer(f"{path}.min_choices", question.get("min_choices"), minimum=0),
        max_choices=reader.integer(f"{path}.max_choices", question.get("max_choices"), minimum=1),
    )


def _read_choice(reader: _Reader, path: str, node: Any, allowed: set[str]) -> ChoiceDef | None:
    choice = reader.obj(path, node)
    if choice is None:
        return None
    reader.keys(path, choice, allowed)
    return ChoiceDef(
        code=reader.string(f"{path}.code", choice.get("code")),
        label=reader.texts(f"{path}.label", choice.get("label"), required=True),
        value=reader.integer(f"{path}.value", choice.get("value")) if "value" in allowed else None,
        is_other=reader.boolean(f"{path}.other", choice.get("other")) if "other" in allowed else False,
    )


# --- Writing ---------------------------------------------------------------------------------


def document_to_json(document: QuestionnaireDocument) -> dict[str, Any]:
    definition = document.definition
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "slug": definition.slug,
        "languages": list(definition.languages),
        "title": _texts(definition.title, definition.languages),
        "organisation": _texts(document.organisation, definition.languages),
        "introduction": _texts(document.introduction, definition.languages),
        "consent": {
            "version": document.consent_version,
            "text": _texts(document.consent_text, definition.languages),
        },
        "schedule": {
            "opens_at": _moment(document.opens_at),
            "closes_at": _moment(document.closes_at),
            "time_zone": document.time_zone,
        },
        "recruitment": {"nominations_per_respondent": document.nomination_quota},
        "reminders": {
            "after_days": list(document.reminders.after_days),
            "limit": document.reminders.limit,
            "closing_soon_days": document.reminders.closing_soon_days,
            "mail_hours": list(document.reminders.mail_hours),
            "mail_weekdays": list(document.reminders.mail_weekdays),
        },
        "domains": [_domain_json(domain, definition.languages) for domain in definition.domains],
    }


def dumps(document_json: Mapping[str, Any]) -> str:
    return json.dumps(document_json, indent=2, ensure_ascii=False) + "\n"


def _texts(texts: Texts, languages: tuple[str, ...]) -> dict[str, str]:
    """In the questionnaire's language order, then any others, so output never depends on storage order."""
    ordered = {language: texts[language] for language in languages if language in texts}
    ordered.update({language: texts[language] for language in sorted(texts) if language not in ordered})
    return ordered


def _moment(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _domain_json(domain: DomainDef, languages: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": domain.code, "title": _texts(domain.title, languages)}
    if domain.description:
        out["description"] = _texts(domain.description, languages)
    if domain.condition:
        out["condition"] = canonical_condition(domain.condition)
    out["questions"] = [_question_json(question, languages) for question in domain.questions]
    return out


def _question_json(question: QuestionDef, languages: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": question.code,
        "type": question.type.value,
        "text": _texts(question.text, languages),
    }
    if question.help:
        out["help"] = _texts(question.help, languages)
    out["required"] = question.required
    if question.breakdown:
        out["breakdown"] = question.breakdown.value
    if question.condition:
        out["condition"] = canonical_condition(question.condition)
    for key in ("min_value", "max_value"):
        if getattr(question, key) is not None:
            out[key] = _number(getattr(question, key))
    if question.integer_only:
        out["integer_only"] = True
    for key in ("max_length", "min_choices", "max_choices"):
        if getattr(question, key) is not None:
            out[key] = getattr(question, key)
    if question.type.has_options:
        out["choices"] = [_choice_json(choice, languages) for choice in question.options]
    if question.type.has_items:
        out["items"] = [
            {"code": item.code, "label": _texts(item.label, languages)} for item in question.items
        ]
    return out


def canonical_condition(condition: Mapping[str, Any]) -> dict[str, Any]:
    """Keys in a fixed order: PostgreSQL's jsonb does not keep the order they were written in."""
    for key in ("all", "any"):
        if key in condition:
            return {key: [canonical_condition(part) for part in condition[key]]}
    out = {"question": condition["question"], "op": condition["op"]}
    if "value" in condition:
        out["value"] = condition["value"]
    return out


def _choice_json(choice: ChoiceDef, languages: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": choice.code,
        "value": choice.value,
        "label": _texts(choice.label, languages),
    }
    if choice.is_other:
        out["other"] = True
    return out
