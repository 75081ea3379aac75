"""Display conditions: a question or a domain appears only when earlier answers match.

A condition is JSON, either one comparison or a group:

    {"question": "P_LEVEL", "op": "equals", "value": "SENIOR"}
    {"all": [<condition>, ...]}        every part holds
    {"any": [<condition>, ...]}        at least one part holds

A comparison on an unanswered question is false, except `not_answered` (and `answered` is false).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class Op(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    ONE_OF = "one_of"
    INCLUDES = "includes"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    ANSWERED = "answered"
    NOT_ANSWERED = "not_answered"


NUMERIC_OPS = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})
VALUELESS_OPS = frozenset({Op.ANSWERED, Op.NOT_ANSWERED})
GROUP_KEYS = ("all", "any")


def is_answered(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _compare(op: Op, answer: Any, expected: Any) -> bool:
    if op is Op.ANSWERED:
        return is_answered(answer)
    if op is Op.NOT_ANSWERED:
        return not is_answered(answer)
    if not is_answered(answer):
        return False
    if op in (Op.EQUALS, Op.NOT_EQUALS):
        if isinstance(expected, int | float) and not isinstance(expected, bool):
            left, right = _number(answer), _number(expected)
            same = left is not None and left == right
        else:
            same = answer == expected
        return same if op is Op.EQUALS else not same
    if op is Op.ONE_OF:
        return answer in expected
    if op is Op.INCLUDES:
        return isinstance(answer, list | tuple) and expected in answer
    left, right = _number(answer), _number(expected)
    if left is None or right is None:
        return False
    if op is Op.GT:
        return left > right
    if op is Op.GTE:
        return left >= right
    if op is Op.LT:
        return left < right
    return left <= right


def evaluate(condition: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether the condition holds for these answers; no condition always holds."""
    if not condition:
        return True
    if "all" in condition:
        return all(evaluate(part, answers) for part in condition["all"])
    if "any" in condition:
        return any(evaluate(part, answers) for part in condition["any"])
    return _compare(Op(condition["op"]), answers.get(condition["question"]), condition.get("value"))


def comparisons(condition: Mapping[str, Any] | None) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every comparison inside a condition, with its JSON path relative to the condition."""
    if not condition:
        return
    for key in GROUP_KEYS:
        if key in condition:
            for index, part in enumerate(condition[key]):
                for path, leaf in comparisons(part):
                    yield f".{key}[{index}]{path}", leaf
            return
    yield "", condition


def referenced_questions(condition: Mapping[str, Any] | None) -> set[str]:
    return {leaf["question"] for _, leaf in comparisons(condition) if "question" in leaf}
