"""Turning what a respondent submitted for one question into a stored value, or a clear message.

Submitted values arrive as a mapping of field name to list of strings (a QueryDict fits). Field
names: the question's code; `<code>.other` for "Other (please specify)"; `<code>.<item>` for each
row of a matrix and each item of a ranking (its rank). Stored values are JSON-friendly:

    single choice, Likert, yes/no/don't know, country   "CODE"
    multiple choice                                     ["A", "C"]  (in the questionnaire's order)
    short and long text                                 "text"
    number                                              "12" or "3.5" (a decimal string, exact)
    ranking                                             ["ITEM2", "ITEM1", "ITEM3"]  (first place first)
    matrix                                              {"ITEM1": "AGREE", "ITEM2": "DISAGREE"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consultation.numbers import whole_number

from .definition import QuestionDef, QuestionType
from .routing import other_text_key

Submitted = Mapping[str, Sequence[str]]
MAX_NUMBER_DIGITS = 15
MAX_DECIMAL_PLACES = 10  # what the answers' numeric column keeps
QUANTUM = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)


class AnswerError(ValueError):
    """The submission cannot be stored; the message is shown next to the question."""


@dataclass(frozen=True, slots=True)
class CleanAnswer:
    value: Any  # None when the question was left unanswered
    other_text: str = ""


def _values(submitted: Submitted, name: str) -> list[str]:
    raw = submitted.get(name, [])
    if isinstance(raw, str):  # a plain dict of strings is accepted too
        raw = [raw]
    return [value.strip() for value in raw if value is not None and value.strip()]


def _single(submitted: Submitted, name: str) -> str:
    values = _values(submitted, name)
    if len(values) > 1:
        raise AnswerError(_("Choose only one answer."))
    return values[0] if values else ""


def clean_text(text: str, *, limit: int) -> str:
    if "\x00" in text:
        raise AnswerError(_("The text contains a character that cannot be stored."))
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > limit:
        raise AnswerError(
            ngettext(
                "Keep the answer under %(limit)d character (it has %(length)d).",
                "Keep the answer under %(limit)d characters (it has %(length)d).",
                limit,
            )
            % {"limit": limit, "length": len(text)}
        )
    return text


def _other_text(question: QuestionDef, submitted: Submitted, chosen: set[str]) -> str:
    other = question.other_option
    if other is None or other.code not in chosen:
        return ""
    text = clean_text(_single(submitted, other_text_key(question.code)), limit=question.text_limit)
    if not text:
        raise AnswerError(_("Please specify your other answer."))
    return text


def _clean_number(question: QuestionDef, text: str) -> str:
    normalised = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        number = Decimal(normalised)
    except (InvalidOperation, ValueError):
        raise AnswerError(_("Enter a number.")) from None
    # Bound size and precision before any arithmetic: "1e999999999" must not reach normalize().
    if not number.is_finite() or len(number.as_tuple().digits) > MAX_NUMBER_DIGITS:
        raise AnswerError(_("Enter a number."))
    if number and not -MAX_DECIMAL_PLACES <= number.adjusted() < MAX_NUMBER_DIGITS:
        raise AnswerError(_("Enter a number."))
    if number.as_tuple().exponent < -MAX_DECIMAL_PLACES and number != number.quantize(QUANTUM):
        raise AnswerError(_("Use at most %(places)d decimal places.") % {"places": MAX_DECIMAL_PLACES})
    if question.integer_only and number != number.to_integral_value():
        raise AnswerError(_("Enter a whole number."))
    if question.min_value is not None and number < question.min_value:
        raise AnswerError(_("Enter a number of at least %(min)s.") % {"min": question.min_value})
    if question.max_value is not None and number > question.max_value:
        raise AnswerError(_("Enter a number of at most %(max)s.") % {"max": question.max_value})
    number = number.normalize()
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return format(number, "f")


def clean_answer(
    question: QuestionDef, submitted: Submitted, *, countries: frozenset[str] = frozenset()
) -> CleanAnswer:
    """Validate one question's submission. Raises AnswerError with a message for the respondent."""
    code = question.code
    kind = question.type

    if kind.takes_one_code:
        chosen = _single(submitted, code)
        if not chosen:
            return CleanAnswer(None)
        allowed = countries if kind is QuestionType.COUNTRY else question.option_codes
        if chosen not in allowed:
            raise AnswerError(_("Choose one of the answers offered."))
        return CleanAnswer(chosen, _other_text(question, submitted, {chosen}))

    if kind is QuestionType.MULTIPLE_CHOICE:
        chosen = set(_values(submitted, code))
        if not chosen:
            return CleanAnswer(None)
        if not chosen <= question.option_codes:
            raise AnswerError(_("Choose among the answers offered."))
        if question.min_choices and len(chosen) < question.min_choices:
            raise AnswerError(
                ngettext(
                    "Choose at least %(count)d answer.",
                    "Choose at least %(count)d answers.",
                    question.min_choices,
                )
                % {"count": question.min_choices}
            )
        if question.max_choices and len(chosen) > question.max_choices:
            raise AnswerError(
                ngettext(
                    "Choose at most %(count)d answer.",
                    "Choose at most %(count)d answers.",
                    question.max_choices,
                )
                % {"count": question.max_choices}
            )
        ordered = [choice.code for choice in question.options if choice.code in chosen]
        return CleanAnswer(ordered, _other_text(question, submitted, chosen))

    if kind.is_text:
        text = clean_text(_single(submitted, code), limit=question.text_limit)
        return CleanAnswer(text or None)

    if kind is QuestionType.NUMBER:
        text = _single(submitted, code)
        return CleanAnswer(_clean_number(question, text) if text else None)

    if kind is QuestionType.RANKING:
        return CleanAnswer(_clean_ranking(question, submitted))

    if kind is QuestionType.MATRIX:
        return CleanAnswer(_clean_matrix(question, submitted))

    raise AnswerError(_("This question cannot be answered."))  # pragma: no cover - every type is handled


def _clean_ranking(question: QuestionDef, submitted: Submitted) -> list[str] | None:
    ranks: dict[str, int] = {}
    for item in question.items:
        text = _single(submitted, f"{question.code}.{item.code}")
        if not text:
            continue
        rank = whole_number(text)
        if rank is None or not 1 <= rank <= len(question.items):
            raise AnswerError(
                _("Give each item a rank from 1 to %(count)d.") % {"count": len(question.items)}
            )
        ranks[item.code] = rank
    if not ranks:
        return None
    if len(ranks) != len(question.items):
        raise AnswerError(_("Give every item a rank, or leave them all blank."))
    if sorted(ranks.values()) != list(range(1, len(question.items) + 1)):
        raise AnswerError(_("Use each rank once."))
    return sorted(ranks, key=ranks.__getitem__)


def _clean_matrix(question: QuestionDef, submitted: Submitted) -> dict[str, str] | None:
    rows: dict[str, str] = {}
    for item in question.items:
        chosen = _single(submitted, f"{question.code}.{item.code}")
        if not chosen:
            continue
        if chosen not in question.option_codes:
            raise AnswerError(_("Choose one of the answers offered."))
        rows[item.code] = chosen
    if not rows:
        return None
    if question.required and len(rows) != len(question.items):
        raise AnswerError(_("Answer every row."))
    return rows


def submitted_for(question: QuestionDef, value: Any, other_text: str = "") -> dict[str, list[str]]:
    """The submission that would produce a stored value: fills a form with saved answers."""
    code = question.code
    if value is None:
        return {}
    if question.type is QuestionType.MULTIPLE_CHOICE:
        submitted = {code: list(value)}
    elif question.type is QuestionType.RANKING:
        submitted = {f"{code}.{item}": [str(rank)] for rank, item in enumerate(value, start=1)}
    elif question.type is QuestionType.MATRIX:
        submitted = {f"{code}.{item}": [choice] for item, choice in value.items()}
    else:
        submitted = {code: [str(value)]}
    if other_text:
        submitted[other_text_key(code)] = [other_text]
    return submitted
