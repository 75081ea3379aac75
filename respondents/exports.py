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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.db import connection

from questionnaires.engine.definition import Breakdown, Definition, QuestionDef, QuestionType, pick_text
from questionnaires.engine.routing import other_text_key
from questionnaires.models import Questionnaire
from questionnaires.selectors import question_ids, questionnaire_definition

from .models import Answer, Response
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


@dataclass(frozen=True)
class RespondentRow:
    number: int
    wave: int
    recruiter: int | None
    seed: int | None
    country: str
    language: str
    started_at: datetime | None
    submitted_at: datetime | None
    name: str
    email: str
    organisation: str


def pseudonym(number: int | None) -> str:
    return "" if number is None else f"R-{number:04d}"


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
    taken = {column.name.lower() for column in columns} | {q.code.lower() for q in definition.questions}
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


def _question_columns(question: QuestionDef, language: str, definition: Definition, taken: set[str]):
    text = pick_text(question.text, language, definition.languages)
    kind = question.type
    labels = {o.value: pick_text(o.label, language, definition.languages) for o in question.options}
    type_label = kind.label
    if kind.takes_one_code and kind is not QuestionType.COUNTRY:
        yield Column(question.code, text, "numeric", question.code, labels, type_label)
    elif kind is QuestionType.COUNTRY:
        yield Column(question.code, text, "string", question.code, type_label=type_label)
    elif kind is QuestionType.MULTIPLE_CHOICE:
        for option in question.options:
            name = _unique(f"{question.code}_{option.code}", taken)
            label = f"{text} — {labels[option.value]}"
            yield Column(
                name, label, "numeric", question.code, {0: "Not chosen", 1: "Chosen"}, type_label, option.code
            )
    elif kind.is_text:
        yield Column(question.code, text, "string", question.code, type_label=type_label)
    elif kind is QuestionType.NUMBER:
        yield Column(question.code, text, "numeric", question.code, type_label=type_label)
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


def export_rows(
    questionnaire: Questionnaire, options: ExportOptions, columns: list[Column]
) -> Iterator[list[Any]]:
    """Each respondent's row as Python values (None for missing), a page at a time."""
    definition = questionnaire_definition(questionnaire)
    code_of = {pk: code for code, pk in question_ids(questionnaire).items()}
    fill = _row_filler(definition, columns)
    responses = _responses(questionnaire, options).order_by("pk")
    fields = (
        "pk", "invitation__number", "invitation__wave", "invitation__nominated_by__number",
        "invitation__seed__number", "invitation__country", "language", "started_at", "submitted_at",
    )  # fmt: skip
    if options.personal_data:
        fields += ("invitation__name", "invitation__email", "invitation__organisation")
    last = 0
    while True:
        page = list(responses.filter(pk__gt=last).values_list(*fields)[:PAGE_SIZE])
        if not page:
            return
        last = page[-1][0]
        answers = _answers_of([row[0] for row in page], code_of)
        for row in page:
            personal = row[9:12] if options.personal_data else ("", "", "")
            respondent = RespondentRow(*row[1:9], *personal)
            yield fill(respondent, answers.get(row[0], {}))


def _answers_of(response_ids: list[int], code_of: dict[int, str]) -> dict[int, dict[str, Any]]:
    """Answers of a page of responses as {response: {code: value, "code.other": text}}.

    The JSON is decoded here, not by the ORM: most values are one code ("SENIOR"), cheap to unquote.
    """
    found: dict[int, dict[str, Any]] = {}
    value_sql = "value::text" if connection.vendor == "postgresql" else "value"
    placeholders = ",".join(["%s"] * len(response_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT response_id, question_id, {value_sql}, other_text FROM {Answer._meta.db_table} "
            f"WHERE response_id IN ({placeholders})",
            response_ids,
        )
        for response_id, question_id, raw, other in cursor.fetchall():
            code = code_of.get(question_id)
            if code is None:
                continue
            answers = found.setdefault(response_id, {})
            answers[code] = _decode(raw)
            if other:
                answers[other_text_key(code)] = other
    return found


def _decode(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw  # a database driver that decodes JSON itself
    if len(raw) > 1 and raw[0] == '"' and raw[-1] == '"' and "\\" not in raw:
        return raw[1:-1]
    return json.loads(raw)


def _row_filler(definition: Definition, columns: list[Column]):
    """A function from (respondent, answers) to the row's cells, built once for all rows."""
    by_code = definition.questions_by_code
    network = definition.with_breakdown(Breakdown.NETWORK_SIZE)
    cells: list = []
    for column in columns:
        cells.append(_cell_reader(column, by_code.get(column.question), network))

    def fill(respondent: RespondentRow, answers: dict[str, Any]) -> list[Any]:
        return [read(respondent, answers) for read in cells]

    return fill


def _number(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _cell_reader(column: Column, question: QuestionDef | None, network: QuestionDef | None):
    name = column.name
    own = {
        "respondent_id": lambda r, a: pseudonym(r.number),
        "wave": lambda r, a: r.wave,
        "recruiter_id": lambda r, a: pseudonym(r.recruiter),
        "seed_id": lambda r, a: pseudonym(r.seed if r.seed is not None else r.number),
        "country": lambda r, a: r.country,
        "region": lambda r, a: region_of(r.country) if r.country else "",
        "language": lambda r, a: r.language,
        "started_at": lambda r, a: r.started_at,
        "completed_at": lambda r, a: r.submitted_at,
        "complete": lambda r, a: int(r.submitted_at is not None),
        "name": lambda r, a: r.name,
        "email": lambda r, a: r.email,
        "organisation": lambda r, a: r.organisation,
    }
    if question is None:
        if name == "network_size" and network is not None:
            return lambda r, a: _number(a.get(network.code))
        return own[name]
    code, kind = question.code, question.type
    if column.other:
        key = other_text_key(code)
        return lambda r, a: a.get(key) or None
    if kind is QuestionType.COUNTRY or kind.is_text:
        return lambda r, a: a.get(code)
    if kind is QuestionType.NUMBER:
        return lambda r, a: _number(a.get(code))
    values = {option.code: option.value for option in question.options}
    if kind.takes_one_code:
        return lambda r, a: values.get(a.get(code))
    part = column.part
    if kind is QuestionType.MULTIPLE_CHOICE:
        return lambda r, a: None if a.get(code) is None else int(part in a[code])
    if kind is QuestionType.RANKING:
        return lambda r, a: a[code].index(part) + 1 if a.get(code) and part in a[code] else None
    return lambda r, a: None if a.get(code) is None else values.get(a[code].get(part))


# --- Formats -------------------------------------------------------------------------------------


def safe_text(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return safe_text(value)


def csv_chunks(questionnaire: Questionnaire, options: ExportOptions, language: str) -> Iterator[str]:
    """The CSV, a page of rows at a time (UTF-8 with a byte-order mark, so Excel reads accents)."""
    definition = questionnaire_definition(questionnaire)
    columns = export_columns(definition, options, language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in columns])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(export_rows(questionnaire, options, columns), start=1):
        writer.writerow([_csv_cell(value) for value in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(questionnaire: Questionnaire, options: ExportOptions, language: str, target) -> int:
    """Responses and a codebook sheet, in openpyxl's write-only mode (memory stays flat)."""
    from openpyxl import Workbook

    definition = questionnaire_definition(questionnaire)
    columns = export_columns(definition, options, language)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Responses")
    sheet.append([column.name for column in columns])
    count = 0
    for row in export_rows(questionnaire, options, columns):
        sheet.append([_xlsx_cell(value) for value in row])
        count += 1
    codebook = workbook.create_sheet("Codebook")
    codebook.append(["variable", "question", "label", "type", "value labels"])
    for column in columns:
        labels = "; ".join(f"{value} = {label}" for value, label in column.value_labels.items())
        kind = column.type_label or column.kind
        codebook.append([column.name, column.question, safe_text(column.label), kind, safe_text(labels)])
    workbook.save(target)
    return count


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: UTC, as the codebook says
    return safe_text(value)


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


def audit_columns(columns: Iterable[Column]) -> list[str]:
    return [column.name for column in columns]


# --- Requests: audited, and files built by a task --------------------------------------------------


def export_audit(
    *, questionnaire: Questionnaire, actor, fmt: str, options: ExportOptions, columns: list[str]
):
    """Every export is in the audit log: who, when, which format, which responses and columns."""
    from consultation.audit import audit_record
    from consultation.models import AuditEntry

    audit_record(
        actor=actor,
        action=AuditEntry.Action.RESPONSES_EXPORTED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"format": fmt, **options.as_dict(), "columns": columns},
    )


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
        columns = export_columns(
            questionnaire_definition(questionnaire), options, questionnaire.default_language
        )
        export_audit(
            questionnaire=questionnaire, actor=actor, fmt=fmt, options=options, columns=audit_columns(columns)
        )
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
    language = questionnaire.default_language
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"{questionnaire.slug}-{stamp}.{export.format}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            if export.format == ExportFile.Format.XLSX:
                rows = write_xlsx(questionnaire, options, language, str(path))
            else:
                rows = write_sav(questionnaire, options, language, str(path))
            with path.open("rb") as handle:
                export.file.save(name, File(handle), save=False)
    except Exception as error:
        import logging

        logging.getLogger(__name__).exception("Export %s failed", export_id)
        ExportFile.objects.filter(pk=export.pk).update(
            status=ExportFile.Status.FAILED, error=str(error)[:300], finished_at=timezone.now()
        )
        return
    export.status, export.rows, export.finished_at = ExportFile.Status.READY, rows, timezone.now()
    export.save(update_fields=["file", "status", "rows", "finished_at"])
