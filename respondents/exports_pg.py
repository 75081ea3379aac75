"""The responses CSV built by PostgreSQL itself: one SELECT that pivots each respondent's answers
into the export's columns, streamed out with COPY. No Python work per cell, so it keeps up with the
database (the Python path in exports.py does the same on SQLite, and the tests check that both give
the same table).

Each response's answers are read from their copy as JSON (AnswerCopy, kept by triggers on the answers
table), so a row is spread into its columns without gathering its answer rows first.

Every value put into the SQL text comes from the definition (codes match [A-Za-z][A-Za-z0-9_]*,
ids and numbers are integers) and is still passed through psycopg's quoting (sql.Literal).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from django.db import connection, transaction
from psycopg import sql

from questionnaires.engine.definition import Definition, QuestionDef, QuestionType
from questionnaires.models import Questionnaire
from questionnaires.selectors import question_ids, questionnaire_definition

from .exports import FORMULA_STARTS, Column, ExportOptions
from .models import AnswerCopy, Invitation, Response
from .regions import OTHER, REGION_OF


def _pseudonym(number: sql.Composable) -> sql.Composable:
    """R-0012, as exports.pseudonym writes it (four digits at least, never truncated)."""
    return sql.SQL(
        "(CASE WHEN {n} IS NULL THEN NULL WHEN {n} < 10000 THEN 'R-' || lpad({n}::text, 4, '0') "
        "ELSE 'R-' || {n}::text END)"
    ).format(n=number)


def _inert(text: sql.Composable) -> sql.Composable:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (exports.safe_text)."""
    starts = sql.SQL(", ").join(sql.Literal(start) for start in FORMULA_STARTS)
    return sql.SQL("(CASE WHEN left({t}, 1) IN ({starts}) THEN '''' || {t} ELSE {t} END)").format(
        t=text, starts=starts
    )


def _moment(column: sql.Composable) -> sql.Composable:
    return sql.SQL("""to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""").format(c=column)


def _number(text: sql.Composable) -> sql.Composable:
    return sql.SQL("trim_scale(({t})::numeric)").format(t=text)


def _values(question: QuestionDef, text: sql.Composable) -> sql.Composable:
    """An option's code to its number."""
    cases = sql.SQL(" ").join(
        sql.SQL("WHEN {code} THEN {value}").format(code=sql.Literal(o.code), value=sql.Literal(o.value))
        for o in question.options
    )
    return (
        sql.SQL("(CASE {t} {cases} END)").format(t=text, cases=cases) if question.options else sql.SQL("NULL")
    )


def _record_type(question: QuestionDef) -> str:
    """How jsonb_to_record reads the answer: lists of codes as text[], a matrix as jsonb, the rest
    (one code, a text, a number) as text."""
    if question.type in (QuestionType.MULTIPLE_CHOICE, QuestionType.RANKING):
        return "text[]"
    return "jsonb" if question.type is QuestionType.MATRIX else "text"


def _question_cell(question: QuestionDef, column: Column, qid: int) -> sql.Composable:
    """The cell, from the respondent's answers spread into a record once per row (x: the answers,
    y: the "other" texts), so each answer is looked up once, however many columns it fills."""
    value = sql.SQL("x.{q}").format(q=sql.Identifier(str(qid)))
    kind = question.type
    if column.other:
        return _inert(sql.SQL("y.{q}").format(q=sql.Identifier(str(qid))))
    if column.name == "network_size" or kind is QuestionType.NUMBER:
        return _number(value)
    if kind is QuestionType.COUNTRY or kind.is_text:
        return _inert(value)
    if kind.takes_one_code:
        return _values(question, value)
    part = sql.Literal(column.part)
    if kind is QuestionType.MULTIPLE_CHOICE:
        return sql.SQL("(CASE WHEN {v} IS NULL THEN NULL WHEN {part} = ANY({v}) THEN 1 ELSE 0 END)").format(
            v=value, part=part
        )
    if kind is QuestionType.RANKING:
        return sql.SQL("array_position({v}, {part})").format(v=value, part=part)
    return _values(question, sql.SQL("({v} ->> {part})").format(v=value, part=part))


def _record_columns(definition: Definition, ids: dict[str, int], *, others: bool) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{name} {kind}").format(
            name=sql.Identifier(str(ids[question.code])),
            kind=sql.SQL("text" if others else _record_type(question)),
        )
        for question in definition.questions
        if not others or question.other_option is not None
    )


def _own_cell(column: Column) -> sql.Composable:
    own = {
        "respondent_id": _pseudonym(sql.SQL("i.number")),
        "wave": sql.SQL("i.wave"),
        "recruiter_id": _pseudonym(sql.SQL("n.number")),
        "seed_id": _pseudonym(sql.SQL("coalesce(s.number, i.number)")),
        "country": sql.SQL("NULLIF(i.country, '')"),
        "region": sql.SQL("(CASE WHEN i.country = '' THEN NULL ELSE coalesce(reg.name, {other}) END)").format(
            other=sql.Literal(OTHER)
        ),
        "language": sql.SQL("NULLIF(r.language, '')"),
        "started_at": _moment(sql.SQL("r.started_at")),
        "completed_at": _moment(sql.SQL("r.submitted_at")),
        "complete": sql.SQL("(r.submitted_at IS NOT NULL)::int"),
        "name": _inert(sql.SQL("NULLIF(i.name, '')")),
        "email": _inert(sql.SQL("NULLIF(i.email, '')")),
        "organisation": _inert(sql.SQL("NULLIF(i.organisation, '')")),
    }
    return own[column.name]


def copy_query(
    questionnaire: Questionnaire, options: ExportOptions, columns: list[Column], definition: Definition
) -> sql.Composable:
    ids = question_ids(questionnaire)
    by_code = definition.questions_by_code
    cells = [
        _question_cell(by_code[column.question], column, ids[column.question])
        if column.question
        else _own_cell(column)
        for column in columns
    ]
    has_other = any(question.other_option is not None for question in definition.questions)
    regions = sql.SQL(", ").join(
        sql.SQL("({code}, {name})").format(code=sql.Literal(code), name=sql.Literal(name))
        for code, name in sorted(REGION_OF.items())
    )
    conditions = [
        sql.SQL("r.questionnaire_id = {q}").format(q=sql.Literal(questionnaire.pk)),
        sql.SQL("r.started_at IS NOT NULL"),
    ]
    if options.complete_only:
        conditions.append(sql.SQL("r.submitted_at IS NOT NULL"))
    if options.wave is not None:
        conditions.append(sql.SQL("i.wave = {w}").format(w=sql.Literal(int(options.wave))))
    return sql.SQL(
        """COPY (
        SELECT {cells}
        FROM {response} r
        JOIN {invitation} i ON i.id = r.invitation_id
        LEFT JOIN {invitation} n ON n.id = i.nominated_by_id
        LEFT JOIN {invitation} s ON s.id = i.seed_id
        LEFT JOIN (VALUES {regions}) AS reg(code, name) ON reg.code = i.country
        LEFT JOIN {copy} c ON c.response_id = r.id
        CROSS JOIN LATERAL jsonb_to_record(coalesce(c.answer_values, '{{}}')) AS x({answers})
        CROSS JOIN LATERAL jsonb_to_record(coalesce(c.other_texts, '{{}}')) AS y({others})
        WHERE {conditions}
        ORDER BY r.id
    ) TO STDOUT WITH (FORMAT csv)"""
    ).format(
        cells=sql.SQL(", ").join(cells),
        response=sql.Identifier(Response._meta.db_table),
        copy=sql.Identifier(AnswerCopy._meta.db_table),
        invitation=sql.Identifier(Invitation._meta.db_table),
        regions=regions,
        conditions=sql.SQL(" AND ").join(conditions),
        answers=_record_columns(definition, ids, others=False),
        others=_record_columns(definition, ids, others=True) if has_other else sql.SQL('"-" text'),
    )


def copy_csv_rows(
    questionnaire: Questionnaire, options: ExportOptions, columns: list[Column]
) -> Iterator[str]:
    """The rows of the responses CSV (no header), as PostgreSQL writes them, streamed."""
    query = copy_query(questionnaire, options, columns, questionnaire_definition(questionnaire))
    decoder = codecs.getincrementaldecoder("utf-8")()  # a character may straddle two chunks
    with transaction.atomic(), connection.cursor() as cursor:
        # The query sorts and hash-joins every respondent: each of those steps may use up to 64 MB
        # (in this transaction only) instead of spilling to disk in batches.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        with cursor.cursor.copy(query) as copy:
            for data in copy:
                yield decoder.decode(bytes(data))
    yield decoder.decode(b"", final=True)
