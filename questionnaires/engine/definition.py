"""An immutable, in-memory questionnaire definition: what the engine reasons about."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
CODE_RULE = "a letter followed by up to 39 letters, digits or underscores"

Texts = Mapping[str, str]
"""One text in each language of the questionnaire: {"en": "...", "fr": "..."}."""


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    LIKERT = "likert"
    YES_NO_DK = "yes_no_dk"
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    COUNTRY = "country"
    RANKING = "ranking"
    MATRIX = "matrix"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]

    @property
    def has_options(self) -> bool:
        return self in _WITH_OPTIONS

    @property
    def has_items(self) -> bool:
        return self in (QuestionType.RANKING, QuestionType.MATRIX)

    @property
    def is_text(self) -> bool:
        return self in (QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT)

    @property
    def takes_one_code(self) -> bool:
        """Answered with a single code: a choice, a scale point or a country."""
        return self in _ONE_CODE


_WITH_OPTIONS = frozenset(
    {
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.LIKERT,
        QuestionType.YES_NO_DK,
        QuestionType.MATRIX,
    }
)
_ONE_CODE = frozenset(
    {QuestionType.SINGLE_CHOICE, QuestionType.LIKERT, QuestionType.YES_NO_DK, QuestionType.COUNTRY}
)

_TYPE_LABELS = {
    QuestionType.SINGLE_CHOICE: "Single choice",
    QuestionType.MULTIPLE_CHOICE: "Multiple choice",
    QuestionType.LIKERT: "Likert scale",
    QuestionType.YES_NO_DK: "Yes / no / don't know",
    QuestionType.SHORT_TEXT: "Short text",
    QuestionType.LONG_TEXT: "Long text",
    QuestionType.NUMBER: "Number",
    QuestionType.COUNTRY: "Country",
    QuestionType.RANKING: "Ranking",
    QuestionType.MATRIX: "Matrix (items on one scale)",
}

SHORT_TEXT_LIMIT = 500
LONG_TEXT_LIMIT = 10_000


class Breakdown(StrEnum):
    """Marks that dashboards, results and exports read instead of the demo's question codes."""

    COUNTRY = "country"
    ROLE = "role"
    SITE_TYPE = "site_type"
    NETWORK_SIZE = "network_size"


BREAKDOWN_TYPES: dict[Breakdown, frozenset[QuestionType]] = {
    Breakdown.COUNTRY: frozenset({QuestionType.COUNTRY}),
    Breakdown.ROLE: frozenset({QuestionType.SINGLE_CHOICE}),
    Breakdown.SITE_TYPE: frozenset({QuestionType.SINGLE_CHOICE}),
    Breakdown.NETWORK_SIZE: frozenset({QuestionType.NUMBER}),
}


@dataclass(frozen=True, slots=True)
class ChoiceDef:
    code: str
    label: Texts
    value: int | None = None
    is_other: bool = False


@dataclass(frozen=True)
class QuestionDef:
    code: str
    type: QuestionType
    text: Texts
    help: Texts = field(default_factory=dict)
    required: bool = False
    breakdown: Breakdown | None = None
    condition: Mapping[str, Any] | None = None
    options: tuple[ChoiceDef, ...] = ()
    items: tuple[ChoiceDef, ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    integer_only: bool = False
    max_length: int | None = None
    min_choices: int | None = None
    max_choices: int | None = None

    @cached_property
    def option_codes(self) -> frozenset[str]:
        return frozenset(choice.code for choice in self.options)

    @cached_property
    def item_codes(self) -> frozenset[str]:
        return frozenset(item.code for item in self.items)

    @cached_property
    def other_option(self) -> ChoiceDef | None:
        return next((choice for choice in self.options if choice.is_other), None)

    @property
    def text_limit(self) -> int:
        hard_limit = SHORT_TEXT_LIMIT if self.type is QuestionType.SHORT_TEXT else LONG_TEXT_LIMIT
        return min(self.max_length, hard_limit) if self.max_length else hard_limit


@dataclass(frozen=True)
class DomainDef:
    code: str
    title: Texts
    questions: tuple[QuestionDef, ...]
    description: Texts = field(default_factory=dict)
    condition: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Definition:
    slug: str
    languages: tuple[str, ...]
    domains: tuple[DomainDef, ...]
    title: Texts = field(default_factory=dict)

    @cached_property
    def questions(self) -> tuple[QuestionDef, ...]:
        return tuple(question for domain in self.domains for question in domain.questions)

    @cached_property
    def questions_by_code(self) -> dict[str, QuestionDef]:
        return {question.code: question for question in self.questions}

    @cached_property
    def domain_of(self) -> dict[str, DomainDef]:
        """The domain that holds each question, by question code."""
        return {question.code: domain for domain in self.domains for question in domain.questions}

    @cached_property
    def position_of(self) -> dict[str, int]:
        """Each question's place in the whole questionnaire: conditions may only look backwards."""
        return {question.code: index for index, question in enumerate(self.questions)}

    @cached_property
    def memo(self) -> dict[str, Any]:
        """What readers of the definition work out from it once and keep beside it, for as long as
        it is the current revision's (respondents' pages keep their unanswered questions' HTML)."""
        return {}

    @cached_property
    def page_number_of(self) -> dict[str, int]:
        """Each domain's page number (1-based, hidden domains included), by domain code."""
        return {domain.code: number for number, domain in enumerate(self.domains, start=1)}

    @property
    def estimated_minutes(self) -> int:
        """About 20 seconds a question, as survey tools estimate, in steps of 5 minutes, at least 5."""
        return max(5, round(len(self.questions) * 20 / 60 / 5) * 5)

    def question(self, code: str) -> QuestionDef:
        return self.questions_by_code[code]

    def with_breakdown(self, breakdown: Breakdown) -> QuestionDef | None:
        return next((q for q in self.questions if q.breakdown is breakdown), None)


def pick_text(texts: Texts, language: str, fallback_languages: tuple[str, ...] = ()) -> str:
    """The text in the requested language, else in the first fallback that has one."""
    if texts.get(language):
        return texts[language]
    for other in fallback_languages:
        if texts.get(other):
            return texts[other]
    return next((text for text in texts.values() if text), "")
