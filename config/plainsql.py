"""Plain SQL, written once: the few statements every logged-in request runs (its session with
its user and, on a lesson or a series page, the reader's grants, progress and follow in the
same statement), where building a query through the ORM costs about ten times running it.

A read is a QuerySet, written as any other, with stand-ins for the values that change from
one call to the next (`Prepared`). It is compiled by the ORM once per database connection;
each call puts its values, adapted as the ORM adapts them, where the stand-ins were, and
reads the rows through the compiler's own converters (aware datetimes and booleans on
SQLite), so it answers as the QuerySet would, with the QuerySet's rules (`active()`, …) in
its SQL, never a copy of them. On PostgreSQL each statement is also prepared on the server
once per connection (config/postgresql), so it is not parsed and planned again. The one
write is Progress's upsert (`upsert`), which the ORM cannot say. Names come from the models'
meta and values are parameters: no SQL comes from a request.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connections, models, router
from django.db.models import Subquery, Value
from django.db.models.functions import Cast

_STAND_IN_AT = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
_STAND_IN_NUMBER = 1_987_654_300  # within every integer column's range


def _kind(field) -> str:
    return (field.target_field if field.is_relation else field).get_internal_type()


def _stand_in(field, index: int):
    """A value for `field` that no query holds by chance, different for each slot."""
    kind = _kind(field)
    if kind == "DateTimeField":
        return _STAND_IN_AT.replace(microsecond=100_000 + index)
    if kind.endswith(("AutoField", "IntegerField")):
        return _STAND_IN_NUMBER + index
    return f"plainsql stand-in {index}"


class Prepared:
    """`build(**slots)` returns a QuerySet of rows (values_list); `slots` names the field each
    value is compared with (so that it is adapted as that field's lookups adapt it):

        progress = Prepared(
            lambda user, lesson: Progress.objects.filter(user=user, lesson=lesson)
            .values_list("finished_at"),
            user=lambda: Progress._meta.get_field("user"),
            lesson=lambda: Progress._meta.get_field("lesson"),
        )
        progress.rows(using="default", user=7, lesson=3)

    A slot is for an ordinary value of its field: not None, which the ORM writes as IS NULL.
    An integer beyond its column's range finds nothing, as the ORM's exact lookup says."""

    def __init__(self, build: Callable[..., models.QuerySet], **slots: Callable[[], models.Field]):
        self.build = build
        self.slots = slots
        self._compiled: dict[int, tuple] = {}  # by connection (each thread has its own)

    def _compile(self, connection, alias: str):
        fields = {name: slot() for name, slot in self.slots.items()}
        stand_ins = {name: _stand_in(field, i) for i, (name, field) in enumerate(fields.items())}
        compiler = self.build(**stand_ins).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        adapted = {
            name: field.get_db_prep_value(stand_ins[name], connection)
            for name, field in fields.items()
        }
        places = [next((n for n, a in adapted.items() if a == p), None) for p in params]
        if missing := set(fields) - set(places):
            raise ValueError(f"the query does not use {sorted(missing)}")
        slots = [(name, field, _range(connection, field)) for name, field in fields.items()]
        selected = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        converters = list(compiler.get_converters(selected).items())
        return connection, sql, list(params), places, slots, converters

    def rows(self, *, using: str, **values) -> list[list]:
        """The rows of the QuerySet, with `values` in the slots, from the database `using`
        (none for a number beyond its column's range, as the ORM's exact lookup says)."""
        found = self.rows_in_range(using=using, **values)
        return [] if found is None else found

    def rows_in_range(self, *, using: str, **values) -> list[list] | None:
        """rows(), or None without asking the database when a value is a number beyond its
        column's range."""
        connection = connections[using]
        compiled = self._compiled.get(id(connection))
        if compiled is None or compiled[0] is not connection:
            compiled = self._compiled[id(connection)] = self._compile(connection, using)
        _connection, sql, params, places, slots, converters = compiled
        prepared = {}
        for name, field, (low, high) in slots:
            value = prepared[name] = field.get_db_prep_value(values[name], connection)
            if type(value) is int and (
                (low is not None and value < low) or (high is not None and value > high)
            ):
                return None
        params = [
            param if place is None else prepared[place]
            for place, param in zip(places, params, strict=True)
        ]
        # On PostgreSQL, prepared on the server once per connection (config/postgresql).
        with getattr(connection, "prepared_cursor", connection.cursor)() as cursor:
            cursor.execute(sql, params)
            return convert(cursor.fetchall(), converters, connection)


def convert(rows, converters, connection) -> list[list]:
    """Rows as the database gave them, as the ORM reads them: every value through its
    column's converters (the one place plain rows become datetimes, booleans, …)."""
    converted = []
    for row in map(list, rows):
        for index, (functions, expression) in converters:
            value = row[index]
            for function in functions:
                value = function(value, expression, connection)
            row[index] = value
        converted.append(row)
    return converted


def _range(connection, field) -> tuple[int | None, int | None]:
    """The values an integer column holds ((None, None): any, or not an integer column)."""
    if _kind(field).endswith(("AutoField", "IntegerField")):
        return connection.ops.integer_field_range(_kind(field))
    return None, None


def select_one(model, names: list[str], **equals) -> list | None:
    """The values of the fields `names` of the row whose fields equal `equals` ("pk" for the
    primary key), or None. The fields in `equals` must make the row unique."""
    rows = _select(model, tuple(names), tuple(equals)).rows(
        using=router.db_for_read(model), **equals
    )
    return rows[0] if rows else None


@functools.cache
def _select(model, names: tuple[str, ...], where: tuple[str, ...]) -> Prepared:
    meta = model._meta

    def field(name):
        return lambda: meta.pk if name == "pk" else meta.get_field(name)

    return Prepared(
        lambda **values: model._base_manager.filter(**values).order_by().values_list(*names),
        **{name: field(name) for name in where},
    )


def upsert(
    model, values: dict, *, unique: tuple[str, ...], update=(), keep_first=(), using=None
) -> None:
    """Insert a row of `values` or, where one with the same `unique` fields exists, set its
    fields `update` to these values and its fields `keep_first` only where they are empty
    (keeping the first value they got). One statement: INSERT … ON CONFLICT, as SQLite and
    PostgreSQL both write it; bulk_create's update_conflicts cannot keep a value it finds."""
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    names = tuple(values)
    sql = _upsert_sql(model, alias, names, unique, tuple(update), tuple(keep_first))
    meta = model._meta
    params = [
        meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@functools.cache
def _upsert_sql(model, alias, names, unique, update, keep_first) -> str:
    quote, meta = connections[alias].ops.quote_name, model._meta
    table = quote(meta.db_table)

    def column(name):
        return quote(meta.get_field(name).column)

    settings = [f"{column(n)} = EXCLUDED.{column(n)}" for n in update] + [
        f"{column(n)} = COALESCE({table}.{column(n)}, EXCLUDED.{column(n)})" for n in keep_first
    ]
    return (
        f"INSERT INTO {table} ({', '.join(column(n) for n in names)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({', '.join(column(n) for n in unique)}) DO UPDATE SET {', '.join(settings)}"
    )


class ReadWithSession:
    """One statement that reads a session with its user, as accounts' `SessionStore.load()`
    does (a session model with a `user`: accounts.Session), and beside them rows of the user
    the session names. `branches(user, now, **values)` returns the branches of those rows,
    each a QuerySet and the names of its columns (the same kinds of columns in each branch,
    in the same order), filtered by `user`, which stands for the session's user (a subquery
    on the live session); `now` is the session's moment too. `slots` name the field each of
    `values` is compared with (Prepared). The rows come back in the branches' columns
    (accounts' SessionStore.load_with())."""

    def __init__(self, session_model, branches, **slots):
        self.session_model = session_model
        field = session_model._meta.get_field
        self.prepared = Prepared(
            functools.partial(self._build, branches),
            key=lambda: field("session_key"),
            now=lambda: field("expire_date"),
            **slots,
        )

    def _build(self, branches, key, now, **values):
        live = self.session_model.objects.filter(session_key=key, expire_date__gt=now)
        found = branches(Subquery(live.values("user")[:1]), now=now, **values)
        session_names = session_columns(self.session_model)
        # Each part names every column of the others, empty: a session's row has no rows'
        # columns, and a row's session columns are empty (its session data tells them apart).
        # (Short names: a statement psycopg holds ready is one of at most 4,096 bytes.)
        rows_empty = _empty(found[0][0], found[0][1], "r")
        parts = [live.order_by().annotate(**rows_empty).values_list(*session_names, *rows_empty)]
        session_empty = _empty(live, session_names, "s")
        for queryset, names in found:
            parts.append(
                queryset.order_by().annotate(**session_empty).values_list(*session_empty, *names)
            )
        return parts[0].union(*parts[1:], all=True).order_by()

    def rows(self, *, using: str, **values) -> tuple[list | None, list[list]] | None:
        """The session's row, in `session_columns()` (None: the session is not live), and the
        branches' rows in their own columns. None, without asking the database, when a value
        is a number beyond its column's range: the rows cannot be read in this statement, the
        session can (on its own)."""
        found = self.prepared.rows_in_range(using=using, **values)
        if found is None:
            return None
        width = len(session_columns(self.session_model))
        session = next((row[:width] for row in found if row[0] is not None), None)
        return session, [row[width:] for row in found if row[0] is None]


@functools.cache
def session_user_names(session_model) -> tuple[str, ...]:
    """The fields of the user a session model names (its `user`), in the order a session's
    row read with them holds them."""
    user = session_model._meta.get_field("user").related_model
    return tuple(field.attname for field in user._meta.concrete_fields)


@functools.cache
def session_columns(session_model) -> tuple[str, ...]:
    """A session's row read with its user: its data, then its user's fields."""
    return ("session_data", *(f"user__{name}" for name in session_user_names(session_model)))


def _empty(queryset, names, prefix) -> dict:
    """An empty value for each of `queryset`'s columns `names`, cast to that column's type, by
    a name of its own. PostgreSQL types a union's columns pair by pair from the left, so an
    empty column of the first part must say its type (two untyped NULLs would make text)."""
    fields = _output_fields(queryset, names)
    return {f"{prefix}{i}": Cast(Value(None), output_field=f) for i, f in enumerate(fields)}


def _output_fields(queryset, names) -> list:
    compiler = queryset.values_list(*names).query.get_compiler(using=queryset.db)
    compiler.setup_query()
    return [expression.output_field for expression, _sql, _alias in compiler.select]
