"""ORM queries compiled once per process and run many times with new parameters.

Turning a QuerySet into SQL costs Django about half a millisecond, more than PostgreSQL then takes
to answer a primary-key lookup. The respondents' pages run the same few queries on every request,
so those are written as ordinary QuerySets, compiled on first use, and afterwards only executed:

    RESPONSE_STATE = PreparedQuery(lambda pk: Response.objects.filter(pk=pk).values_list("language"))
    RESPONSE_STATE.rows(42)  # [("fr",)]

Only `values_list()` queries, and only parameters that reach the SQL unchanged (exact lookups on
integer or text columns): the query is compiled with a distinctive placeholder per argument, and
each later call puts its arguments where the placeholders were. Rows go through the same database
and field converters the ORM applies (JSON decoded, SQLite's dates parsed). Each thread compiles
its own copy, with its own connection: a compiler holds the connection it was made with.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # (argument index, the type to give it) or (None, a constant)
    params: tuple[tuple[int | None, Any], ...]
    compiler: Any
    converters: dict


def _placeholders(kinds: Sequence[type]) -> list[Any]:
    """Values no constant in a query uses (the ORM's field preparation turns subclasses back into
    plain int and str, so they are told apart by value). The integers fit every integer column:
    out of a column's range, Django would compile the lookup to "no rows"."""
    made: list[Any] = []
    for index, kind in enumerate(kinds):
        if kind is int:
            made.append(1_987_654_321 + index)
        elif kind is str:
            made.append(f"placeholder-{index}-f0d8e2c6a9b34a7f")
        else:
            raise TypeError(f"PreparedQuery arguments are int or str, not {kind!r}")
    return made


class PreparedQuery:
    """A `values_list()` QuerySet built by `build(*arguments)`, compiled once per database."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: type):
        self._build = build
        self._kinds = kinds or (int,)
        self._local = threading.local()

    def rows(self, *arguments: Any, using: str = "default") -> list[tuple]:
        if len(arguments) != len(self._kinds):
            raise TypeError(f"This query takes {len(self._kinds)} argument(s), not {len(arguments)}")
        connection = connections[using]
        # Outside a transaction select_for_update() refuses to compile: that refusal is kept.
        key = (using, connection.in_atomic_block)
        compiled_here = self._local.__dict__.setdefault("compiled", {})
        compiled = compiled_here.get(key) or compiled_here.setdefault(key, self._compile(using))
        params = [
            constant_or_type if index is None else constant_or_type(arguments[index])
            for index, constant_or_type in compiled.params
        ]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = [tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)]
        return rows

    def _compile(self, using: str) -> _Compiled:
        placeholders = _placeholders(self._kinds)
        queryset = self._build(*placeholders)
        compiler = queryset.query.get_compiler(using=using)
        sql, raw_params = compiler.as_sql()
        params = []
        for value in raw_params:
            slot = next(
                (i for i, p in enumerate(placeholders) if isinstance(value, type(p)) and value == p), None
            )
            # An argument takes the type the ORM gave its placeholder (psycopg's Int4 for a 32-bit
            # column on PostgreSQL); a constant stays as compiled.
            params.append((slot, value) if slot is None else (slot, type(value)))
        found = {slot for slot, _ in params if slot is not None}
        if found != set(range(len(placeholders))):
            raise ValueError("Every argument must reach the SQL unchanged (an exact lookup, once).")
        fields = [column for column, _, _ in compiler.select[: compiler.col_count]]
        return _Compiled(sql, tuple(params), compiler, compiler.get_converters(fields))


@lru_cache(maxsize=256)
def _update_sql(model: type[Model], names: tuple[str, ...], using: str) -> str:
    quote = connections[using].ops.quote_name
    columns = ", ".join(f"{quote(model._meta.get_field(name).column)} = %s" for name in names)
    return f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE {quote(model._meta.pk.column)} = %s"


Statement = tuple[str, list[Any]]


def update_statement(instance: Model, *names: str, using: str = "default") -> Statement:
    """`instance.save(update_fields=names)` for a hot path: the same values (auto_now included,
    each prepared by its field) in an UPDATE built once per model and field list. Run through
    `Writes`, it sends no pre_save or post_save signal: only for models nothing listens to."""
    connection = connections[using]
    fields = [instance._meta.get_field(name) for name in names]
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]
    return _update_sql(type(instance), names, using), [*values, instance.pk]


def guarded_update(
    model: type[Model],
    pk: Any,
    values: Mapping[str, Any],
    expected: Mapping[str, Any],
    using: str = "default",
    *,
    also: Statement | None = None,
) -> Statement:
    """An UPDATE of one row that changes it only if its `expected` fields still hold those values
    (NULL matches None), and `also` (a SELECT) finds a row, returning a row if it did: the guard of
    `Writes.run_if`. Values are prepared by their fields; auto_now is not applied (give such fields
    their value)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = model._meta
    changed = [(meta.get_field(name), value) for name, value in values.items()]
    checked = [(meta.get_field(name), value) for name, value in expected.items()]
    also_sql, also_params = also or ("", [])
    sql = (
        _update_sql(model, tuple(values), using)
        + "".join(f" AND {quote(field.column)} IS NOT DISTINCT FROM %s" for field, _ in checked)
        + (f" AND EXISTS ({also_sql})" if also_sql else "")
        + " RETURNING 1"
    )
    params = [
        *(field.get_db_prep_save(value, connection) for field, value in changed),
        meta.pk.get_db_prep_value(pk, connection),
        *(field.get_db_prep_save(value, connection) for field, value in checked),
        *also_params,
    ]
    return sql, params


@lru_cache(maxsize=256)
def _insert_sql(model: type[Model], names: tuple[str, ...], count: int, using: str) -> str:
    quote = connections[using].ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES " + ", ".join([row] * count)


@lru_cache(maxsize=256)
def _recordset_insert_sql(model: type[Model], names: tuple[str, ...], using: str) -> str:
    quote = connections[using].ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)
    return (
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{table}, %s)"
    )


def _json_default(value: Any) -> str:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()  # to the microsecond, with its offset
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot travel in a JSON recordset")


def insert_statements(
    model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]], using: str = "default"
) -> list[Statement]:
    """`bulk_create` without model instances, for a hot path that needs no ids back: INSERTs of
    `rows` (values in the order of `names`), each value prepared by its field as the ORM would;
    auto_now fields must be given.

    On PostgreSQL the rows travel as one JSON array that the table's own row type reads
    (jsonb_populate_recordset): the statement is the same whatever the number of rows, so psycopg
    and PostgreSQL parse it once; one placeholder per value made a long statement that psycopg
    parsed again in Python for every save. Elsewhere, VALUES rows, as many statements as
    bulk_create would make."""
    if not rows:
        return []
    connection = connections[using]
    fields = [model._meta.get_field(name) for name in names]
    for field in fields:  # a field that needs its own placeholder SQL is left to the ORM
        target = field.target_field if field.is_relation else field
        if (
            hasattr(field, "get_placeholder")
            or target.get_internal_type() not in connection.data_types
            or getattr(field, "encoder", None) is not None
        ):
            raise TypeError(f"insert_statements cannot insert {field.name!r}: use bulk_create")
    if connection.vendor == "postgresql":
        columns = [field.column for field in fields]
        records = [
            {
                column: field.get_prep_value(value)
                for column, field, value in zip(columns, fields, row, strict=True)
            }
            for row in rows
        ]
        return [
            (_recordset_insert_sql(model, tuple(names), using), [json.dumps(records, default=_json_default)])
        ]
    prepared = [
        [field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=True)]
        for row in rows
    ]
    size = max(1, connection.ops.bulk_batch_size(fields, rows))
    return [
        (
            _insert_sql(model, tuple(names), len(batch), using),
            [value for row in batch for value in row],
        )
        for batch in (prepared[start : start + size] for start in range(0, len(rows), size))
    ]


# PostgreSQL's cap on one statement's parameters: writes with more go one statement at a time.
MAX_PARAMETERS_TOGETHER = 65535


class Writes:
    """INSERTs and UPDATEs of different tables that go to the database together: on PostgreSQL in
    one statement, the others as data-modifying WITH clauses (one round trip instead of one per
    statement); elsewhere one after the other. They see the database as it was before all of
    them, so none may depend on another's rows, and no row may be written twice."""

    def __init__(self, using: str = "default"):
        self.using = using
        self.statements: list[Statement] = []
        # How each statement takes a condition (run_if): a WHERE it has, or one it lacks.
        self._conditions: list[str] = []

    def insert_rows(self, model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        added = insert_statements(model, names, rows, self.using)
        self.statements.extend(added)
        self._conditions.extend(["WHERE"] * len(added))

    def update_fields(self, instance: Model, *names: str) -> None:
        self.statements.append(update_statement(instance, *names, using=self.using))
        self._conditions.append("AND")

    def run_if(self, guard: Statement) -> bool:
        """PostgreSQL: `guard`, an UPDATE … RETURNING of one row (see `guarded_update`), and these
        writes in one statement, the writes made only if the guard updated its row. One statement
        is atomic without a transaction, and its UPDATE holds the row's lock until it ends: so a
        write that must find a row as it was read needs no BEGIN, no SELECT … FOR UPDATE and no
        COMMIT, three round trips. Whether the writes were made (False also when they are too many
        for one statement: then nothing was sent)."""
        connection = connections[self.using]
        if connection.vendor != "postgresql":
            raise NotImplementedError("Writes.run_if needs PostgreSQL's data-modifying WITH")
        statements, conditions = self.statements, self._conditions
        self.statements, self._conditions = [], []
        guard_sql, guard_params = guard
        params = [*guard_params, *(p for _, statement_params in statements for p in statement_params)]
        if len(params) > MAX_PARAMETERS_TOGETHER:
            return False
        clauses = [f"guard AS ({guard_sql})"] + [
            f"w{index} AS ({sql} {condition} EXISTS (SELECT 1 FROM guard))"
            for index, ((sql, _), condition) in enumerate(zip(statements, conditions, strict=True))
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(clauses)} SELECT count(*) FROM guard", params)
            return cursor.fetchone()[0] == 1

    def run(self) -> None:
        connection = connections[self.using]
        statements, self.statements = self.statements, []
        self._conditions = []
        with connection.cursor() as cursor:
            together = sum(len(params) for _, params in statements) <= MAX_PARAMETERS_TOGETHER
            if connection.vendor == "postgresql" and len(statements) > 1 and together:
                *first, (last_sql, _) = statements
                clauses = ", ".join(f"w{index} AS ({sql})" for index, (sql, _) in enumerate(first))
                cursor.execute(f"WITH {clauses} {last_sql}", [p for _, params in statements for p in params])
                return
            for statement in statements:
                cursor.execute(*statement)
