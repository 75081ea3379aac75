"""A definition's problems, each with its JSON path; pure, no database."""

import pytest

from questionnaires.engine.checks import definition_problems
from questionnaires.engine.definition import Breakdown, ChoiceDef

from .builders import choices, definition, domain, question


def problems_of(d):
    return {(p.path, p.message) for p in definition_problems(d, countries=frozenset({"CA", "FR"}))}


def paths_of(d):
    return {path for path, _ in problems_of(d)}


def test_a_sound_definition_has_no_problem():
    d = definition(
        domain(
            "P",
            question("COUNTRY", "country", breakdown=Breakdown.COUNTRY),
            question("LEVEL", "single_choice", breakdown=Breakdown.ROLE),
            question("PEERS", "number", breakdown=Breakdown.NETWORK_SIZE, min_value=0, max_value=50),
        ),
        domain(
            "D1",
            question("D1_Q1", "multiple_choice", options=choices("A", "B", other="OTHER"), max_choices=2),
            question(
                "D1_Q2",
                "long_text",
                condition={
                    "any": [
                        {"question": "D1_Q1", "op": "includes", "value": "A"},
                        {"question": "COUNTRY", "op": "one_of", "value": ["CA", "FR"]},
                        {"question": "PEERS", "op": "gte", "value": 3},
                    ]
                },
            ),
        ),
    )
    assert problems_of(d) == set()


def test_duplicate_codes_are_named_where_they_repeat():
    d = definition(
        domain("D1", question("Q1", "short_text"), question("Q1", "long_text")),
        domain(
            "D1",
            question(
                "Q2",
                "single_choice",
                options=(
                    ChoiceDef("A", {"en": "A", "fr": "A"}, 1),
                    ChoiceDef("A", {"en": "B", "fr": "B"}, 1),
                ),
            ),
        ),
    )
    found = problems_of(d)
    assert (
        "$.domains[0].questions[1].code",
        "duplicate question code 'Q1' (first used at $.domains[0].questions[0])",
    ) in found
    assert ("$.domains[1].code", "duplicate domain code 'D1'") in found
    assert ("$.domains[1].questions[0].choices[1].code", "duplicate code 'A' in question Q2") in found
    assert ("$.domains[1].questions[0].choices[1].value", "duplicate value 1 in question Q2") in found


@pytest.mark.parametrize("bad", ["1Q", "Q-1", "Q 1", "", "Q" * 41, "Q.1"])
def test_code_rules(bad):
    assert "$.domains[0].questions[0].code" in paths_of(definition(domain("D", question(bad, "short_text"))))


def test_condition_pointing_at_a_later_or_unknown_question():
    later = definition(
        domain(
            "D",
            question("A", "short_text", condition={"question": "B", "op": "answered"}),
            question("B", "short_text"),
        )
    )
    assert any("does not come before" in m for _, m in problems_of(later))
    unknown = definition(
        domain("D", question("A", "short_text", condition={"question": "NOPE", "op": "answered"}))
    )
    assert ("$.domains[0].questions[0].condition.question", "no question has the code 'NOPE'") in problems_of(
        unknown
    )
    itself = definition(
        domain("D", question("A", "short_text", condition={"question": "A", "op": "answered"}))
    )
    assert any("does not come before" in m for _, m in problems_of(itself))


def test_a_domain_condition_may_only_use_earlier_domains():
    d = definition(
        domain("D1", question("A", "yes_no_dk")),
        domain("D2", question("B", "yes_no_dk"), condition={"question": "B", "op": "answered"}),
    )
    assert "$.domains[1].condition.question" in paths_of(d)


@pytest.mark.parametrize(
    ("target", "condition", "path_end"),
    [
        ("single_choice", {"op": "equals", "value": "ZZZ"}, "value"),
        ("single_choice", {"op": "gt", "value": 3}, "op"),
        ("single_choice", {"op": "includes", "value": "A"}, "op"),
        ("single_choice", {"op": "one_of", "value": []}, "value"),
        ("multiple_choice", {"op": "equals", "value": "A"}, "op"),
        ("number", {"op": "gt", "value": "three"}, "value"),
        ("number", {"op": "one_of", "value": ["A"]}, "op"),
        ("short_text", {"op": "equals", "value": "x"}, "op"),
        ("matrix", {"op": "equals", "value": "A"}, "op"),
        ("ranking", {"op": "includes", "value": "X"}, "op"),
        ("country", {"op": "equals", "value": "XX"}, "value"),
        ("single_choice", {"op": "is_roughly", "value": "A"}, "op"),
        ("single_choice", {"op": "answered", "value": "A"}, "value"),
        ("single_choice", {"op": "equals"}, "value"),
    ],
)
def test_condition_mismatches(target, condition, path_end):
    d = definition(
        domain(
            "D", question("T", target), question("F", "short_text", condition={"question": "T", **condition})
        )
    )
    assert any(
        p.startswith("$.domains[0].questions[1].condition") and p.endswith(path_end) for p in paths_of(d)
    ), problems_of(d)


def test_malformed_condition_shapes():
    for bad in (
        {"all": []},
        {"all": "x"},
        {"all": [{"question": "T", "op": "answered"}], "any": []},
        "T",
        {"question": 3, "op": "answered"},
        {"question": "T", "op": "answered", "extra": 1},
    ):
        d = definition(domain("D", question("T", "yes_no_dk"), question("F", "short_text", condition=bad)))
        assert any(p.startswith("$.domains[0].questions[1].condition") for p in paths_of(d)), bad


def test_choices_and_items_where_the_type_needs_them():
    assert "$.domains[0].questions[0].choices" in paths_of(
        definition(domain("D", question("Q", "single_choice", options=choices("A"))))
    )
    assert "$.domains[0].questions[0].items" in paths_of(
        definition(domain("D", question("Q", "ranking", items=())))
    )
    assert "$.domains[0].questions[0].choices" in paths_of(
        definition(domain("D", question("Q", "short_text", options=choices("A", "B"))))
    )
    other_on_likert = definition(domain("D", question("Q", "likert", options=choices("A", "B", other="O"))))
    assert "$.domains[0].questions[0].choices[2].other" in paths_of(other_on_likert)


def test_missing_translations_are_flagged():
    q = question(
        "Q",
        "single_choice",
        options=(ChoiceDef("A", {"en": "Yes"}, 1), ChoiceDef("B", {"en": "No", "fr": "Non"}, 2)),
    )
    q_help = question("H", "short_text", help={"en": "Only English"})
    found = problems_of(definition(domain("D", q, q_help)))
    assert ("$.domains[0].questions[0].choices[0].label.fr", "missing translation (fr)") in found
    assert ("$.domains[0].questions[1].help.fr", "missing translation (fr)") in found


def test_breakdown_marks_need_the_right_type_and_appear_once():
    d = definition(
        domain(
            "D",
            question("A", "short_text", breakdown=Breakdown.COUNTRY),
            question("B", "single_choice", breakdown=Breakdown.ROLE),
            question("C", "single_choice", breakdown=Breakdown.ROLE),
        )
    )
    paths = paths_of(d)
    assert "$.domains[0].questions[0].breakdown" in paths
    assert "$.domains[0].questions[2].breakdown" in paths


def test_number_and_choice_limits():
    assert "$.domains[0].questions[0].max_value" in paths_of(
        definition(domain("D", question("N", "number", min_value=5, max_value=1)))
    )
    assert "$.domains[0].questions[0].max_choices" in paths_of(
        definition(domain("D", question("M", "multiple_choice", min_choices=3, max_choices=2)))
    )
    assert "$.domains[0].questions[0]" in paths_of(
        definition(domain("D", question("T", "short_text", min_value=1)))
    )
