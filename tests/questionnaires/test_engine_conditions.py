"""The rule engine is pure: these tests need no database."""

import pytest

from questionnaires.engine.conditions import Op, evaluate, referenced_questions

ANSWERS = {
    "LEVEL": "SENIOR",
    "TOPICS": ["TRAINING", "INTEL"],
    "YEARS": "12",
    "EMPTY_TEXT": "",
    "NOTE": "some text",
}


def leaf(question, op, value=None):
    condition = {"question": question, "op": op}
    if value is not None:
        condition["value"] = value
    return condition


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("LEVEL", "equals", "SENIOR"), True),
        (leaf("LEVEL", "equals", "MIDDLE"), False),
        (leaf("LEVEL", "not_equals", "MIDDLE"), True),
        (leaf("LEVEL", "not_equals", "SENIOR"), False),
        (leaf("LEVEL", "one_of", ["MIDDLE", "SENIOR"]), True),
        (leaf("LEVEL", "one_of", ["MIDDLE", "FRONTLINE"]), False),
        (leaf("TOPICS", "includes", "INTEL"), True),
        (leaf("TOPICS", "includes", "ISOLATION"), False),
        (leaf("LEVEL", "includes", "SENIOR"), False),  # includes needs a list answer
        (leaf("YEARS", "gt", 11), True),
        (leaf("YEARS", "gt", 12), False),
        (leaf("YEARS", "gte", 12), True),
        (leaf("YEARS", "gte", 12.5), False),
        (leaf("YEARS", "lt", 12.5), True),
        (leaf("YEARS", "lt", 12), False),
        (leaf("YEARS", "lte", 12), True),
        (leaf("YEARS", "lte", 11), False),
        (leaf("YEARS", "equals", 12), True),  # numbers compare as numbers, "12" == 12
        (leaf("YEARS", "not_equals", 12), False),
        (leaf("NOTE", "answered"), True),
        (leaf("EMPTY_TEXT", "answered"), False),
        (leaf("MISSING", "answered"), False),
        (leaf("MISSING", "not_answered"), True),
        (leaf("NOTE", "not_answered"), False),
    ],
)
def test_every_operator(condition, expected):
    assert evaluate(condition, ANSWERS) is expected


@pytest.mark.parametrize("op", [op for op in Op if op is not Op.NOT_ANSWERED])
def test_a_comparison_on_an_unanswered_question_is_false(op):
    value = (
        None
        if op is Op.ANSWERED
        else (["X"] if op is Op.ONE_OF else ("X" if op not in ("gt", "gte", "lt", "lte") else 1))
    )
    assert evaluate(leaf("MISSING", op.value, value), ANSWERS) is False


def test_a_non_numeric_answer_never_passes_a_number_comparison():
    assert evaluate(leaf("LEVEL", "gt", 1), ANSWERS) is False


def test_all_and_any_combine_and_nest():
    senior_with_intel = {"all": [leaf("LEVEL", "equals", "SENIOR"), leaf("TOPICS", "includes", "INTEL")]}
    assert evaluate(senior_with_intel, ANSWERS)
    assert not evaluate({"all": [leaf("LEVEL", "equals", "SENIOR"), leaf("YEARS", "gt", 20)]}, ANSWERS)
    assert evaluate({"any": [leaf("LEVEL", "equals", "MIDDLE"), leaf("YEARS", "gt", 10)]}, ANSWERS)
    assert not evaluate({"any": [leaf("LEVEL", "equals", "MIDDLE"), leaf("YEARS", "gt", 20)]}, ANSWERS)
    nested = {"all": [leaf("NOTE", "answered"), {"any": [leaf("YEARS", "lt", 5), senior_with_intel]}]}
    assert evaluate(nested, ANSWERS)


def test_no_condition_always_holds():
    assert evaluate(None, {}) and evaluate({}, {})


def test_referenced_questions_walks_groups():
    condition = {"all": [leaf("A", "answered"), {"any": [leaf("B", "equals", "X"), leaf("C", "gt", 1)]}]}
    assert referenced_questions(condition) == {"A", "B", "C"}
