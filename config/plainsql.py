"""One-row reads in plain SQL, for the few lookups every logged-in request makes (its user,
its progress on a lesson): building a query through the ORM costs about ten times running it.

Names come from the model's meta and values are parameters, so no SQL comes from a request.
The backend's converters are applied as the ORM applies them (aware datetimes and booleans on
SQLite), so what is read here is what the ORM would read, and saves back unchanged.
"""

import functools

from django.db import connections, router


def _converters(connection, model, fields):
    table = model._meta.db_table
    found = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        for convert in connection.ops.get_db_converters(column) + column.get_db_converters(
            connection
        ):
            found.append((index, convert, column))
    return found


@functools.cache
def _statement(alias: str, model, names: tuple[str, ...], where: tuple[str, ...]):
    """The SQL, the fields of `where` and the converters, worked out once per shape."""
    connection = connections[alias]
    quote, meta = connection.ops.quote_name, model._meta
    fields = [meta.get_field(name) for name in names]
    conditions = [meta.get_field(name) for name in where]
    sql = (
        f"SELECT {', '.join(quote(field.column) for field in fields)} "  # noqa: S608
        f"FROM {quote(meta.db_table)} "
        f"WHERE {' AND '.join(f'{quote(field.column)} = %s' for field in conditions)}"
    )
    return sql, conditions, _converters(connection, model, fields)


def select_one(model, names: list[str], **equals) -> list | None:
    """The values of the fields `names` of the row whose fields equal `equals`, or None. The
    fields in `equals` must make the row unique."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    sql, conditions, converters = _statement(alias, model, tuple(names), tuple(equals))
    params = [
        field.get_db_prep_value(value, connection)
        for field, value in zip(conditions, equals.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, convert, column in converters:
        values[index] = convert(values[index], column, connection)
    return values
