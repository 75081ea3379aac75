"""Which domains and questions a respondent sees; pure, no database."""

from questionnaires.engine.routing import (
    effective_answers,
    first_unfinished_domain,
    missing_required,
    visible_domains,
    visible_questions,
)

from .builders import definition, domain, question


def build():
    return definition(
        domain(
            "PROFILE",
            question("HAS_PROGRAM", "yes_no_dk", required=True),
            question(
                "PROGRAM_NAME",
                "short_text",
                required=True,
                condition={"question": "HAS_PROGRAM", "op": "equals", "value": "A"},
            ),
            question("PROGRAM_DETAIL", "long_text", condition={"question": "PROGRAM_NAME", "op": "answered"}),
        ),
        domain(
            "PROGRAMS",
            question("RATING", "likert"),
            condition={"question": "HAS_PROGRAM", "op": "equals", "value": "A"},
        ),
        domain("LAST", question("FINAL", "long_text")),
    )


def test_follow_up_appears_only_when_the_condition_holds():
    d = build()
    profile = d.domains[0]
    assert [q.code for q in visible_questions(d, profile, {})] == ["HAS_PROGRAM"]
    assert [q.code for q in visible_questions(d, profile, {"HAS_PROGRAM": "A"})] == [
        "HAS_PROGRAM",
        "PROGRAM_NAME",
    ]
    shown = visible_questions(d, profile, {"HAS_PROGRAM": "A", "PROGRAM_NAME": "X"})
    assert [q.code for q in shown] == ["HAS_PROGRAM", "PROGRAM_NAME", "PROGRAM_DETAIL"]


def test_an_answer_on_a_hidden_question_does_not_count_downstream():
    d = build()
    answers = {"HAS_PROGRAM": "B", "PROGRAM_NAME": "left over", "PROGRAM_DETAIL": "left over too"}
    assert effective_answers(d, answers) == {"HAS_PROGRAM": "B"}
    assert [q.code for q in visible_questions(d, d.domains[0], answers)] == ["HAS_PROGRAM"]


def test_a_domain_condition_hides_the_whole_domain():
    d = build()
    assert [x.code for x in visible_domains(d, {"HAS_PROGRAM": "B"})] == ["PROFILE", "LAST"]
    assert [x.code for x in visible_domains(d, {"HAS_PROGRAM": "A"})] == ["PROFILE", "PROGRAMS", "LAST"]
    assert visible_questions(d, d.domains[1], {"HAS_PROGRAM": "B"}) == []


def test_hidden_questions_are_never_required():
    d = build()
    assert [q.code for q in missing_required(d, d.domains[0], {})] == ["HAS_PROGRAM"]
    assert missing_required(d, d.domains[0], {"HAS_PROGRAM": "B"}) == []
    assert [q.code for q in missing_required(d, d.domains[0], {"HAS_PROGRAM": "A"})] == ["PROGRAM_NAME"]


def test_resume_at_the_first_unfinished_visible_domain():
    d = build()
    assert first_unfinished_domain(d, {}, set()).code == "PROFILE"
    answers = {"HAS_PROGRAM": "B"}
    assert first_unfinished_domain(d, answers, {"PROFILE"}).code == "LAST"
    assert first_unfinished_domain(d, answers, {"PROFILE", "LAST"}) is None
    # A domain saved earlier but whose required follow-up became visible is unfinished again.
    assert first_unfinished_domain(d, {"HAS_PROGRAM": "A"}, {"PROFILE", "PROGRAMS", "LAST"}).code == "PROFILE"


def test_page_numbers_and_estimated_time_come_from_the_definition():
    d = build()
    assert d.page_number_of == {"PROFILE": 1, "PROGRAMS": 2, "LAST": 3}
    assert d.estimated_minutes == 5  # 5 questions: the 5-minute floor
    many = definition(domain("D", *(question(f"Q{i}", "short_text") for i in range(60))))
    assert many.estimated_minutes == 20


def test_answers_reduced_once_are_given_back_as_they_are():
    d = build()
    effective = effective_answers(d, {"HAS_PROGRAM": "B", "PROGRAM_NAME": "left over"})
    assert effective_answers(d, effective) is effective
    assert visible_domains(d, effective) == visible_domains(d, {"HAS_PROGRAM": "B", "PROGRAM_NAME": "x"})
    other = build()  # another definition (a new revision, say) reduces them afresh
    assert effective_answers(other, effective) is not effective
    assert effective_answers(other, effective) == effective == {"HAS_PROGRAM": "B"}
