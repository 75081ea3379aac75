"""Responses as data: one row per respondent, one column per question (per option, item), for CSV,
Excel and SPSS; and the recruitment chain as an edge list for R's RDS package.

Rows are read a page of respondents at a time (two queries per page), so memory stays flat however
many there are; CSV streams as it is read. Every cell is made safe for the format it goes into:
text that a spreadsheet would run as a formula is neutralised in CSV and Excel, while numbers stay
numbers; SPSS gets the raw data with variable and value labels.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db import connection

from questionnaires.engine.definition import Breakdown, Definition, QuestionDef, QuestionType, pick_text
from questionnaires.models import Questionnaire
from questionnaires.selectors import question_ids, questionnaire_definition

from .models import Answer, Response, pseudonym
from .regions import region_of

PAGE_SIZE = 2000
SPSS_NAME_LIMIT = 64
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEED_RECRUITER = "seed"  # what R's RDS package expects as a seed's recruiter id

Kind = Literal["numeric", "string", "datetime"]


@dataclass(frozen=True)
class ExportOptions:
    complete_only: bool = False  # submitted responses only (else every response that was started)
    wave: int | None = None
    personal_data: bool = False  # names, emails and organisations: only when asked, with the permission

    def as_dict(self) -> dict[str, Any]:
        return {"complete_only": self.complete_only, "wave": self.wave, "personal_data": self.personal_data}


@dataclass
class Column:
    name: str
    label: str
    kind: Kind
    question: str = ""  # the question code it comes from, empty for the respondent's own columns
    value_labels: dict[int, str] = field(default_factory=dict)
    type_label: str = ""
    part: str = ""  # the option (multiple choice) or item (ranking, matrix) of the column
    other: bool = False  # the text of "Other, please specify"


# --- Columns -------------------------------------------------------------------------------------


def export_columns(definition: Definition, options: ExportOptions, language: str) -> list[Column]:
    """The columns in order: the respondent's own, then each question's, named by codes."""
    columns = [
        Column("respondent_id", "Respondent (pseudonymous, stable within the questionnaire)", "string"),
        Column("wave", "Wave (0 = seed)", "numeric"),
        Column("recruiter_id", "Who nominated the respondent (empty for seeds)", "string"),
        Column("seed_id", "The seed of the respondent's recruitment chain", "string"),
        Column("country", "Country of the invitation (ISO 3166-1)", "string"),
        Column("region", "Region of that country", "string"),
        Column("language", "Language of the answers", "string"),
        Column("started_at", "Started (UTC)", "datetime"),
        Column("completed_at", "Submitted (UTC)", "datetime"),
        Column("complete", "Submitted", "numeric", value_labels={0: "No", 1: "Yes"}),
    ]
    network = definition.with_breakdown(Breakdown.NETWORK_SIZE)
    if network is not None:
        columns.append(Column("network_size", f"Network size ({network.code})", "numeric", network.code))
    if options.personal_data:
        columns += [
            Column("name", "Name", "string"),
            Column("email", "Email address", "string"),
            Column("organisation", "Organisation", "string"),
        ]
    # Names are compared case-insensitively (SPSS does); the respondent's own columns, every
    # personal-data column and SPSS's reserved words are never a question's.
    reserved = OWN_COLUMN_NAMES | SPSS_RESERVED
    taken = set(reserved) | {q.code.lower() for q in definition.questions}
    for question in definition.questions:
        columns += _question_columns(question, language, definition, taken)
    return columns


def _unique(name: str, taken: set[str]) -> str:
    """A variable name SPSS and R accept, not used yet (codes are letters, digits and underscores)."""
    name = name[:SPSS_NAME_LIMIT]
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f"_{number}"
        candidate, number = name[: SPSS_NAME_LIMIT - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


OWN_COLUMN_NAMES = frozenset(
    {
        "respondent_id", "wave", "recruiter_id", "seed_id", "country", "region", "language", "started_at",
        "completed_at", "complete", "network_size", "name", "email", "organisation",
    }
)  # fmt: skip
SPSS_RESERVED = frozenset({"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"})


def _variable(code: str, taken: set[str]) -> str:
    """A question's own column: its code, unless that is one of the export's names or an SPSS word."""
    if code.lower() in OWN_COLUMN_NAMES | SPSS_RESERVED:
        return _unique(f"{code}_q", taken)
    return code


def _question_columns(question: QuestionDef, language: str, definition: Definition, taken: set[str]):
    text = pick_text(question.text, language, definition.languages)
    kind = question.type
    labels = {o.value: pick_text(o.label, language, definition.languages) for o in question.options}
    type_label = kind.label
    if kind.takes_one_code and kind is not QuestionType.COUNTRY:
        yield Column(_variable(question.code, taken), text, "numeric", question.code, labels, type_label)
    elif kind is QuestionType.COUNTRY:
        yield Column(_variable(question.code, taken), text, "string", question.code, type_label=type_label)
    elif kind is QuestionType.MULTIPLE_CHOICE:
        for option in question.options:
            name = _unique(f"{question.code}_{option.code}", taken)
            label = f"{text} — {labels[option.value]}"
            yield Column(
                name, label, "numeric", question.code, {0: "Not chosen", 1: "Chosen"}, type_label, option.code
            )
    elif kind.is_text:
        yield Column(_variable(question.code, taken), text, "string", question.code, type_label=type_label)
    elif kind is QuestionType.NUMBER:
        yield Column(_variable(question.code, taken), text, "numeric", question.code, type_label=type_label)
    elif kind in (QuestionType.RANKING, QuestionType.MATRIX):
        for item in question.items:
            name = _unique(f"{question.code}_{item.code}", taken)
            label = f"{text} — {pick_text(item.label, language, definition.languages)}"
            if kind is QuestionType.RANKING:
                yield Column(
                    name, f"{label} (rank)", "numeric", question.code, type_label=type_label, part=item.code
                )
            else:
                yield Column(name, label, "numeric", question.code, labels, type_label, item.code)
    if question.other_option is not None:
        yield Column(
            _unique(f"{question.code}_other", taken),
            f"{text} — {pick_text(question.other_option.label, language, definition.languages)}: text",
            "string",
            question.code,
            type_label=type_label,
            other=True,
        )


# --- Rows ----------------------------------------------------------------------------------------


def _responses(questionnaire: Questionnaire, options: ExportOptions):
    rows = Response.objects.filter(questionnaire=questionnaire, started_at__isnull=False)
    if options.complete_only:
        rows = rows.filter(submitted_at__isnull=False)
    if options.wave is not None:
        rows = rows.filter(invitation__wave=options.wave)
    return rows


def export_count(questionnaire: Questionnaire, options: ExportOptions) -> int:
    return _responses(questionnaire, options).count()


OWN_FIELDS = (
    "pk", "invitation__number", "invitation__wave", "invitation__nominated_by__number",
    "invitation__seed__number", "invitation__country", "language", "started_at", "submitted_at",
)  # fmt: skip
PERSONAL_FIELDS = ("invitation__name", "invitation__email", "invitation__organisation")


def export_rows(
    questionnaire: Questionnaire, options: ExportOptions, columns: list[Column], *, neutralise: bool = False
) -> Iterator[list[Any]]:
    """Each respondent's row as Python values (None for missing), a page of respondents at a time.

    The work per row follows the answers given, not the columns: a row starts empty and each answer
    writes its own cells. With `neutralise`, text a spreadsheet would run as a formula is made inert.
    """
    definition = questionnaire_definition(questionnaire)
    ids = question_ids(questionnaire)
    own = _own_cells(columns, neutralise)
    writers = _answer_writers(definition, columns, ids, neutralise)
    width = len(columns)
    responses = _responses(questionnaire, options).order_by("pk")
    fields = OWN_FIELDS + (PERSONAL_FIELDS if options.personal_data else ())
    last = 0
    while True:
        page = list(responses.filter(pk__gt=last).values_list(*fields)[:PAGE_SIZE])
        if not page:
            return
        last = page[-1][0]
        answers = _answers_of([row[0] for row in page])
        for record in page:
            row = [None] * width
            for position, read in own:
                row[position] = read(record)
            values, others = answers.get(record[0], ({}, {}))
            for question_id, value in values.items():
                write = writers.get(question_id)
                if write is not None:
                    write(row, value, others.get(question_id, ""))
            yield row


def _answers_of(response_ids: list[int]) -> dict[int, tuple[dict[str, Any], dict[str, str]]]:
    """Each response's answers as one JSON object built by the database ({question id: value}) and
    its "other" texts: one row per respondent to read, decoded by the C JSON parser."""
    table = Answer._meta.db_table
    placeholders = ",".join(["%s"] * len(response_ids))
    if connection.vendor == "postgresql":
        values = "jsonb_object_agg(question_id, value)::text"
        others = "(jsonb_object_agg(question_id, other_text) FILTER (WHERE other_text <> ''))::text"
    else:
        values = "json_group_object(question_id, json(value))"
        others = "json_group_object(question_id, other_text) FILTER (WHERE other_text <> '')"
    found = {}
    loads = json.loads
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT response_id, {values}, {others} FROM {table} "
            f"WHERE response_id IN ({placeholders}) GROUP BY response_id",
            response_ids,
        )
        for response_id, value_json, other_json in cursor.fetchall():
            found[response_id] = (loads(value_json), loads(other_json) if other_json else {})
    return found


def _own_cells(columns: list[Column], neutralise: bool):
    """(position, reader) for the respondent's own columns, reading the page's value rows."""
    text = safe_text if neutralise else (lambda value: value)
    personal = {"name": 9, "email": 10, "organisation": 11}
    readers = {
        "respondent_id": lambda r: pseudonym(r[1]),
        "wave": lambda r: r[2],
        "recruiter_id": lambda r: pseudonym(r[3]),
        "seed_id": lambda r: pseudonym(r[4] if r[4] is not None else r[1]),
        "country": lambda r: r[5],
        "region": lambda r: region_of(r[5]) if r[5] else "",
        "language": lambda r: r[6],
        "started_at": lambda r: r[7],
        "completed_at": lambda r: r[8],
        "complete": lambda r: int(r[8] is not None),
        **{name: (lambda r, i=index: text(r[i])) for name, index in personal.items()},
    }
    return [
        (position, readers[column.name]) for position, column in enumerate(columns) if not column.question
    ]


def _answer_writers(definition: Definition, columns: list[Column], ids: dict[str, int], neutralise: bool):
    """For each question (by database id, as the JSON object's keys are), a function that writes an
    answer into the cells of its columns."""
    text = safe_text if neutralise else (lambda value: value)
    positions: dict[str, list[tuple[int, Column]]] = {}
    for position, column in enumerate(columns):
        if column.question:
            positions.setdefault(column.question, []).append((position, column))
    writers = {}
    for question in definition.questions:
        placed = positions.get(question.code, [])
        main = [(p, c) for p, c in placed if not c.other and c.name != "network_size"]
        other_at = next((p for p, c in placed if c.other), None)
        network_at = next((p for p, c in placed if c.name == "network_size"), None)
        writers[str(ids[question.code])] = _writer(question, main, other_at, network_at, text)
    return writers


def _exact(value: Any) -> Decimal | None:
    """A number answer as stored (a decimal string), without trailing zeros: 3.50 is 3.5, 100 is 100."""
    if value is None or value == "":
        return None
    number = Decimal(str(value)).normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _writer(question: QuestionDef, placed: list[tuple[int, Column]], other_at, network_at, text):
    kind = question.type
    values = {option.code: option.value for option in question.options}

    def other(row, other_text):
        if other_at is not None and other_text:
            row[other_at] = text(other_text)

    if kind is QuestionType.NUMBER:
        at = placed[0][0]

        def write(row, value, other_text):
            number = _exact(value)
            row[at] = number
            if network_at is not None:
                row[network_at] = number

    elif kind is QuestionType.COUNTRY or kind.is_text:
        at = placed[0][0]

        def write(row, value, other_text):
            row[at] = text(value)

    elif kind.takes_one_code:
        at = placed[0][0]

        def write(row, value, other_text):
            row[at] = values.get(value)
            other(row, other_text)

    elif kind is QuestionType.MULTIPLE_CHOICE:
        option_at = [(p, c.part) for p, c in placed]

        def write(row, value, other_text):
            chosen = set(value)
            for position, code in option_at:
                row[position] = 1 if code in chosen else 0
            other(row, other_text)

    elif kind is QuestionType.RANKING:
        item_at = {c.part: p for p, c in placed}

        def write(row, value, other_text):
            for position in item_at.values():
                row[position] = None
            for rank, item in enumerate(value, start=1):
                if item in item_at:
                    row[item_at[item]] = rank

    else:  # matrix
        item_at = [(p, c.part) for p, c in placed]

        def write(row, value, other_text):
            for position, item in item_at:
                row[position] = values.get(value.get(item))

    return write


# --- Formats -------------------------------------------------------------------------------------


def safe_text(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _moments_at(columns: list[Column]) -> list[int]:
    return [position for position, column in enumerate(columns) if column.kind == "datetime"]


def csv_chunks(
    questionnaire: Questionnaire, options: ExportOptions, language: str, *, in_database: bool | None = None
) -> Iterator[str]:
    """The CSV, streamed (UTF-8 with a byte-order mark, so Excel reads accents). Empty cells are
    missing answers; times are UTC in ISO 8601. On PostgreSQL the database writes the rows itself
    (exports_pg.py); elsewhere, or with in_database=False, they are built here, a page at a time."""
    definition = questionnaire_definition(questionnaire)
    columns = export_columns(definition, options, language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.name for column in columns])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    if in_database:
        from .exports_pg import copy_csv_rows

        yield from copy_csv_rows(questionnaire, options, columns)
        return
    moments = _moments_at(columns)
    decimals = [
        at for at, column in enumerate(columns) if column.kind == "numeric" and _is_number(column, definition)
    ]
    for count, row in enumerate(export_rows(questionnaire, options, columns, neutralise=True), start=1):
        for position in moments:
            if row[position] is not None:
                row[position] = row[position].strftime("%Y-%m-%dT%H:%M:%SZ")
        for position in decimals:
            if row[position] is not None:
                row[position] = format(row[position], "f")
        writer.writerow(row)
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _is_number(column: Column, definition: Definition) -> bool:
    question = definition.questions_by_code.get(column.question)
    return question is not None and question.type is QuestionType.NUMBER


def write_xlsx(questionnaire: Questionnaire, options: ExportOptions, language: str, target) -> int:
    """Responses and a codebook sheet, in openpyxl's write-only mode (memory stays flat)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def storable(value):  # Excel cannot hold control characters: they are dropped, the text stays
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    definition = questionnaire_definition(questionnaire)
    columns = export_columns(definition, options, language)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Responses")
    sheet.append([column.name for column in columns])
    moments = _moments_at(columns)
    count = 0
    for row in export_rows(questionnaire, options, columns, neutralise=True):
        for position in moments:  # Excel has no time zones: UTC, as the codebook says
            if row[position] is not None:
                row[position] = row[position].replace(tzinfo=None)
        sheet.append([storable(value) for value in row])
        count += 1
    codebook = workbook.create_sheet("Codebook")
    codebook.append(["variable", "question", "label", "type", "value labels"])
    for column in columns:
        labels = "; ".join(f"{value} = {label}" for value, label in column.value_labels.items())
        kind = column.type_label or column.kind
        codebook.append(
            [
                column.name,
                column.question,
                storable(safe_text(column.label)),
                kind,
                storable(safe_text(labels)),
            ]
        )
    workbook.save(target)
    return count


def write_sav(questionnaire: Questionnaire, options: ExportOptions, language: str, path: str) -> int:
    """An SPSS file with variable and value labels; text stays data (no neutralising: SPSS runs
    no formulas)."""
    import pandas
    import pyreadstat

    definition = questionnaire_definition(questionnaire)
    columns = export_columns(definition, options, language)
    rows = list(export_rows(questionnaire, options, columns))
    data = {}
    for index, column in enumerate(columns):
        values = [row[index] for row in rows]
        if column.kind == "numeric":
            data[column.name] = (
                pandas.array(values, dtype="Float64").astype("float64", copy=False) if values else []
            )
        elif column.kind == "datetime":
            data[column.name] = pandas.to_datetime(
                [value.replace(tzinfo=None) if value else None for value in values]
            )
        else:
            data[column.name] = ["" if value is None else str(value) for value in values]
    frame = pandas.DataFrame(data, columns=[column.name for column in columns])
    pyreadstat.write_sav(
        frame,
        path,
        column_labels={column.name: column.label[:250] for column in columns},
        variable_value_labels={
            column.name: {float(k): v[:120] for k, v in column.value_labels.items()}
            for column in columns
            if column.value_labels
        },
        variable_measure={
            column.name: ("nominal" if column.value_labels else "scale")
            for column in columns
            if column.kind == "numeric"
        },
    )
    return len(rows)


# --- The recruitment chain -----------------------------------------------------------------------


EDGE_COLUMNS = ("recruiter_id", "recruit_id", "wave", "seed_id", "network_size")


def edge_rows(questionnaire: Questionnaire, options: ExportOptions) -> Iterator[list[Any]]:
    """One row per respondent: who recruited them ("seed" for seeds), their wave, their chain's seed
    and their network size, the shape R's RDS package reads (as.rds.data.frame)."""
    definition = questionnaire_definition(questionnaire)
    network = definition.with_breakdown(Breakdown.NETWORK_SIZE)
    network_id = question_ids(questionnaire).get(network.code) if network else None
    responses = _responses(questionnaire, options).order_by("invitation__number")
    rows = responses.values_list(
        "invitation__nominated_by__number",
        "invitation__number",
        "invitation__wave",
        "invitation__seed__number",
    )
    sizes: dict[int, Any] = {}
    if network_id is not None:
        sizes = dict(
            Answer.objects.filter(response__in=responses.order_by(), question_id=network_id).values_list(
                "response__invitation__number", "number"
            )
        )
    for recruiter, number, wave, seed in rows.iterator(chunk_size=PAGE_SIZE):
        yield [
            pseudonym(recruiter) if recruiter is not None else SEED_RECRUITER,
            pseudonym(number),
            wave,
            pseudonym(seed if seed is not None else number),
            _number(sizes.get(number)),
        ]


def edge_csv_chunks(questionnaire: Questionnaire, options: ExportOptions) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EDGE_COLUMNS)
    for count, row in enumerate(edge_rows(questionnaire, options), start=1):
        writer.writerow(["" if value is None else value for value in row])
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- Requests: audited, and files built by a task --------------------------------------------------


def export_audit(*, questionnaire: Questionnaire, actor, fmt: str, options: ExportOptions) -> None:
    """Every export is in the audit log: who, when, which format, which responses and columns."""
    from consultation.audit import audit_record
    from consultation.models import AuditEntry

    if fmt == "edges":
        columns = list(EDGE_COLUMNS)
    else:
        definition = questionnaire_definition(questionnaire)
        columns = [
            column.name for column in export_columns(definition, options, questionnaire.default_language)
        ]
    audit_record(
        actor=actor,
        action=AuditEntry.Action.RESPONSES_EXPORTED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"format": fmt, **options.as_dict(), "columns": columns},
    )


FILE_WRITERS = {"xlsx": write_xlsx, "sav": write_sav}


def write_file(fmt: str, questionnaire: Questionnaire, options: ExportOptions, path: str) -> int:
    """An Excel ("xlsx") or SPSS ("sav") file of the responses at `path`; returns how many rows."""
    return FILE_WRITERS[fmt](questionnaire, options, questionnaire.default_language, path)


# The exports streamed as they are read, each with what its file holds; the others are files,
# built whole (FILE_WRITERS).
STREAMED_FORMATS = {"csv": "responses", "edges": "recruitment"}


def csv_export(*, questionnaire: Questionnaire, actor, fmt: str, options: ExportOptions) -> Iterator[str]:
    """A streamed CSV: the responses ("csv") or the recruitment chain ("edges"), audited before its
    first row is read."""
    export_audit(questionnaire=questionnaire, actor=actor, fmt=fmt, options=options)
    if fmt == "edges":
        return edge_csv_chunks(questionnaire, options)
    return csv_chunks(questionnaire, options, questionnaire.default_language)


def export_file_request(*, questionnaire: Questionnaire, actor, fmt: str, options: ExportOptions):
    """Record the request and build the file after commit (in a worker; in-process on the embedded
    default). The audit entry is written now, with the request."""
    from django.db import transaction

    from .models import ExportFile
    from .tasks import build_export_file_task

    with transaction.atomic():
        export = ExportFile.objects.create(
            questionnaire=questionnaire, requested_by=actor, format=fmt, options=options.as_dict()
        )
        export_audit(questionnaire=questionnaire, actor=actor, fmt=fmt, options=options)
        transaction.on_commit(lambda: build_export_file_task.delay(export.pk))
    return export


def export_file_build(export_id: int) -> None:
    """Build a requested file; run twice, it does nothing the second time."""
    import tempfile
    from pathlib import Path

    from django.core.files import File
    from django.utils import timezone

    from .models import ExportFile

    export = ExportFile.objects.select_related("questionnaire").filter(pk=export_id).first()
    if export is None or export.status != ExportFile.Status.PENDING:
        return
    questionnaire = export.questionnaire
    options = ExportOptions(**export.options)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"{questionnaire.slug}-{stamp}.{export.format}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            rows = write_file(export.format, questionnaire, options, str(path))
            with path.open("rb") as handle:
                export.file.save(name, File(handle), save=False)
    except Exception as error:
        import logging

        logging.getLogger(__name__).exception("Export %s failed", export_id)
        ExportFile.objects.filter(pk=export.pk).update(
            status=ExportFile.Status.FAILED, error=str(error)[:300], finished_at=timezone.now()
        )
        return
    # A purge or an erasure may have removed the request meanwhile: then the file goes too.
    from django.db import transaction

    with transaction.atomic():
        still = ExportFile.objects.select_for_update().filter(pk=export.pk, status=ExportFile.Status.PENDING)
        purged = Questionnaire.objects.filter(
            pk=questionnaire.pk, personal_data_purged_at__isnull=False
        ).exists()
        if not still.exists() or (purged and options.personal_data):
            export.file.storage.delete(export.file.name)
            still.delete()
            return
        still.update(
            file=export.file.name, status=ExportFile.Status.READY, rows=rows, finished_at=timezone.now()
        )
