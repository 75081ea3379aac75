"""Problems in a questionnaire definition, each named with its JSON path. Pure: no database.

The importer refuses a file with any problem; the authoring pages show the same list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import GROUP_KEYS, NUMERIC_OPS, VALUELESS_OPS, Op, comparisons
from .definition import (
    BREAKDOWN_TYPES,
    CODE_PATTERN,
    CODE_RULE,
    Definition,
    QuestionDef,
    QuestionType,
)

LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
CHOICE_TYPES_FOR_OTHER = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def definition_problems(definition: Definition, *, countries: frozenset[str] = frozenset()) -> list[Problem]:
    return list(_problems(definition, countries))


def _problems(definition: Definition, countries: frozenset[str]) -> Iterator[Problem]:
    yield from _language_problems(definition.languages)
    yield from _translation_problems("$.title", definition.title, definition.languages, required=True)

    domain_codes: set[str] = set()
    question_paths: dict[str, str] = {}
    breakdowns: dict[str, str] = {}
    seen_before: set[str] = set()  # questions that come earlier, as conditions see them

    if not definition.domains:
        yield Problem("$.domains", "a questionnaire needs at least one domain")
    for d_index, domain in enumerate(definition.domains):
        d_path = f"$.domains[{d_index}]"
        yield from _code_problems(f"{d_path}.code", domain.code)
        if domain.code in domain_codes:
            yield Problem(f"{d_path}.code", f"duplicate domain code {domain.code!r}")
        domain_codes.add(domain.code)
        yield from _translation_problems(f"{d_path}.title", domain.title, definition.languages, required=True)
        yield from _translation_problems(f"{d_path}.description", domain.description, definition.languages)
        # A domain's condition may only use questions of earlier domains.
        yield from _condition_problems(
            f"{d_path}.condition", domain.condition, definition, seen_before, countries
        )

        if not domain.questions:
            yield Problem(f"{d_path}.questions", "a domain needs at least one question")
        in_this_domain: set[str] = set()
        for q_index, question in enumerate(domain.questions):
            q_path = f"{d_path}.questions[{q_index}]"
            yield from _code_problems(f"{q_path}.code", question.code)
            if question.code in question_paths:
                yield Problem(
                    f"{q_path}.code",
                    f"duplicate question code {question.code!r} "
                    f"(first used at {question_paths[question.code]})",
                )
            else:
                question_paths[question.code] = q_path
            yield from _question_problems(q_path, question, definition.languages)
            if question.breakdown is not None:
                if question.breakdown in breakdowns:
                    yield Problem(
                        f"{q_path}.breakdown",
                        f"only one question can be marked {question.breakdown.value!r} "
                        f"(already {breakdowns[question.breakdown]})",
                    )
                breakdowns.setdefault(question.breakdown, question.code)
            visible_to_condition = seen_before | in_this_domain
            yield from _condition_problems(
                f"{q_path}.condition", question.condition, definition, visible_to_condition, countries
            )
            in_this_domain.add(question.code)
        seen_before |= in_this_domain


def _language_problems(languages: tuple[str, ...]) -> Iterator[Problem]:
    if not languages:
        yield Problem("$.languages", "list at least one language")
    for index, language in enumerate(languages):
        if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
            yield Problem(
                f"$.languages[{index}]", f"{language!r} is not a language code such as 'en' or 'fr'"
            )
    if len(set(languages)) != len(languages):
        yield Problem("$.languages", "a language is listed twice")


def _code_problems(path: str, code: str) -> Iterator[Problem]:
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        yield Problem(path, f"{code!r} is not a valid code: use {CODE_RULE}")


def _translation_problems(
    path: str, texts: Mapping[str, str], languages: tuple[str, ...], *, required: bool = False
) -> Iterator[Problem]:
    filled = {language for language, text in texts.items() if isinstance(text, str) and text.strip()}
    for language in texts:
        if language not in languages:
            yield Problem(f"{path}.{language}", f"{language!r} is not one of the questionnaire's languages")
    if not filled and not required:
        return
    for language in languages:
        if language not in filled:
            yield Problem(f"{path}.{language}", f"missing translation ({language})")


def _question_problems(path: str, question: QuestionDef, languages: tuple[str, ...]) -> Iterator[Problem]:
    kind = question.type
    yield from _translation_problems(f"{path}.text", question.text, languages, required=True)
    yield from _translation_problems(f"{path}.help", question.help, languages)

    if kind.has_options and len(question.options) < 2:
        yield Problem(f"{path}.choices", f"a {kind.value} question needs at least two choices")
    if not kind.has_options and question.options:
        yield Problem(f"{path}.choices", f"a {kind.value} question has no choices")
    if kind.has_items and len(question.items) < 2:
        yield Problem(f"{path}.items", f"a {kind.value} question needs at least two items")
    if not kind.has_items and question.items:
        yield Problem(f"{path}.items", f"a {kind.value} question has no items")

    codes: set[str] = set()
    values: set[int] = set()
    others = 0
    for group, entries in (("choices", question.options), ("items", question.items)):
        for index, choice in enumerate(entries):
            c_path = f"{path}.{group}[{index}]"
            yield from _code_problems(f"{c_path}.code", choice.code)
            if choice.code in codes:
                yield Problem(f"{c_path}.code", f"duplicate code {choice.code!r} in question {question.code}")
            codes.add(choice.code)
            yield from _translation_problems(f"{c_path}.label", choice.label, languages, required=True)
            if group == "choices":
                if choice.value is None:
                    yield Problem(f"{c_path}.value", "every choice needs a numeric value")
                elif choice.value in values:
                    yield Problem(
                        f"{c_path}.value", f"duplicate value {choice.value} in question {question.code}"
                    )
                else:
                    values.add(choice.value)
            if choice.is_other:
                others += 1
                if kind not in CHOICE_TYPES_FOR_OTHER:
                    yield Problem(f"{c_path}.other", f"a {kind.value} question cannot have an 'Other' choice")
    if others > 1:
        yield Problem(f"{path}.choices", "only one choice can be 'Other (please specify)'")

    if kind is QuestionType.NUMBER:
        if (
            question.min_value is not None
            and question.max_value is not None
            and question.min_value > question.max_value
        ):
            yield Problem(f"{path}.max_value", "the maximum is below the minimum")
    elif question.min_value is not None or question.max_value is not None or question.integer_only:
        yield Problem(path, "only number questions have min_value, max_value or integer_only")
    if question.max_length is not None:
        if not kind.is_text and kind not in CHOICE_TYPES_FOR_OTHER:
            yield Problem(f"{path}.max_length", "only text questions have a maximum length")
        elif question.max_length < 1:
            yield Problem(f"{path}.max_length", "the maximum length must be at least 1")
    if question.min_choices is not None or question.max_choices is not None:
        if kind is not QuestionType.MULTIPLE_CHOICE:
            yield Problem(path, "only multiple choice questions have min_choices or max_choices")
        else:
            low, high = question.min_choices or 0, question.max_choices or len(question.options)
            if low > high:
                yield Problem(f"{path}.max_choices", "max_choices is below min_choices")
            if high > len(question.options) or low < 0:
                yield Problem(f"{path}.max_choices", "more choices required than the question offers")
    if question.breakdown is not None and kind not in BREAKDOWN_TYPES[question.breakdown]:
        allowed = " or ".join(sorted(t.value for t in BREAKDOWN_TYPES[question.breakdown]))
        yield Problem(
            f"{path}.breakdown", f"a {question.breakdown.value!r} breakdown must be a {allowed} question"
        )


def _condition_problems(
    path: str,
    condition: Mapping[str, Any] | None,
    definition: Definition,
    earlier_codes: set[str],
    countries: frozenset[str],
) -> Iterator[Problem]:
    if condition is None:
        return
    shape = list(_shape_problems(path, condition))
    if shape:
        yield from shape
        return
    for leaf_path, leaf in comparisons(condition):
        full = f"{path}{leaf_path}"
        code = leaf["question"]
        target = definition.questions_by_code.get(code)
        if target is None:
            yield Problem(f"{full}.question", f"no question has the code {code!r}")
            continue
        if code not in earlier_codes:
            yield Problem(
                f"{full}.question",
                f"{code} does not come before this point: a condition can only use earlier answers",
            )
            continue
        yield from _comparison_problems(full, Op(leaf["op"]), leaf.get("value"), target, countries)


def condition_shape_problems(condition: Any) -> list[Problem]:
    """What is wrong with a condition's form alone (keys, operators, values present), before its
    questions are looked up."""
    return list(_shape_problems("$", condition))


def _shape_problems(path: str, condition: Any) -> Iterator[Problem]:
    if not isinstance(condition, Mapping):
        yield Problem(path, "a condition is an object")
        return
    groups = [key for key in GROUP_KEYS if key in condition]
    if groups:
        if len(condition) != 1:
            yield Problem(path, "a group holds only 'all' or only 'any'")
            return
        parts = condition[groups[0]]
        if not isinstance(parts, list) or not parts:
            yield Problem(f"{path}.{groups[0]}", "list at least one condition")
            return
        for index, part in enumerate(parts):
            yield from _shape_problems(f"{path}.{groups[0]}[{index}]", part)
        return
    unknown = set(condition) - {"question", "op", "value"}
    if unknown:
        yield Problem(path, f"unknown keys: {', '.join(sorted(unknown))}")
    if not isinstance(condition.get("question"), str):
        yield Problem(f"{path}.question", "name the question by its code")
    op = condition.get("op")
    if op not in Op.__members__.values():
        yield Problem(f"{path}.op", f"unknown operator {op!r}; use one of: {', '.join(o.value for o in Op)}")
    elif Op(op) in VALUELESS_OPS and "value" in condition:
        yield Problem(f"{path}.value", f"{op} takes no value")
    elif Op(op) not in VALUELESS_OPS and "value" not in condition:
        yield Problem(f"{path}.value", f"{op} needs a value")


def _usable_number(value: Any) -> bool:
    """A number a condition can compare with: not a boolean, finite, and not absurdly large."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) < 10**14


def _comparison_problems(
    path: str, op: Op, value: Any, target: QuestionDef, countries: frozenset[str]
) -> Iterator[Problem]:
    kind = target.type
    if op in VALUELESS_OPS:
        return
    if kind in (QuestionType.RANKING, QuestionType.MATRIX) or kind.is_text:
        yield Problem(
            f"{path}.op", f"a {kind.value} question can only be tested with answered / not_answered"
        )
        return
    if op in NUMERIC_OPS:
        if kind is not QuestionType.NUMBER:
            yield Problem(
                f"{path}.op", f"{op.value} compares numbers; {target.code} is a {kind.value} question"
            )
        elif not _usable_number(value):
            yield Problem(f"{path}.value", "compare with a number")
        return
    if op is Op.INCLUDES:
        if kind is not QuestionType.MULTIPLE_CHOICE:
            yield Problem(
                f"{path}.op",
                f"includes is for multiple choice questions; {target.code} is a {kind.value} question",
            )
            return
    elif kind is QuestionType.MULTIPLE_CHOICE:
        yield Problem(f"{path}.op", "test a multiple choice question with includes, answered or not_answered")
        return
    if kind is QuestionType.NUMBER:
        if op is Op.ONE_OF:
            yield Problem(
                f"{path}.op", "one_of lists choice codes; compare numbers with gt, gte, lt, lte, equals"
            )
        elif not _usable_number(value):
            yield Problem(f"{path}.value", "compare with a number")
        return
    allowed = countries if kind is QuestionType.COUNTRY else target.option_codes
    expected = value if op is Op.ONE_OF else [value]
    if op is Op.ONE_OF and (not isinstance(value, list) or not value):
        yield Problem(f"{path}.value", "one_of needs a list of codes")
        return
    for entry in expected:
        if not isinstance(entry, str) or (allowed and entry not in allowed):
            yield Problem(f"{path}.value", f"{entry!r} is not a choice of {target.code}")
