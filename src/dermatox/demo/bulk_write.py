"""Write many new rows of one model, with their version-history rows, as fast as the database allows.

PostgreSQL: ids drawn from the table's own sequence in one query, then `COPY … FROM STDIN` for the rows and
for their history rows — an order of magnitude faster than INSERTs built by the ORM, which is what lets
`dermatox demo --patients 100000` load in minutes. Other databases (SQLite for `make run`): the ORM's
`bulk_create_with_history`. Both write the same rows: every concrete field as the model would save it,
and one history row a record ("+", the given user, now).

Only for loading fresh data (the demo, benchmarks): no signals, no validation — the caller builds valid
objects, as `demo_load` does from the checked generator.
"""

from __future__ import annotations

from django.db import connection, models
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

# Field types whose Python value psycopg adapts exactly as the ORM would store it.
_PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "EmailField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "UUIDField",
}


def write_new(model: type[models.Model], objs: list[models.Model], *, user) -> None:
    if not objs:
        return
    if connection.vendor != "postgresql":
        bulk_create_with_history(objs, model, batch_size=500, default_user=user)
        return
    _assign_ids(model, objs)
    fields = model._meta.concrete_fields
    rows = [[_value(f, obj) for f in fields] for obj in objs]
    _copy(model._meta.db_table, [f.column for f in fields], rows)
    history = getattr(model, "history", None)
    if history is not None:
        _copy_history(history.model, fields, rows, user)


def _assign_ids(model, objs) -> None:
    pk = model._meta.pk
    if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
        return  # UUID keys are made by the model's default
    missing = [obj for obj in objs if obj.pk is None]
    if not missing:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(missing)],
        )
        for obj, (new_id,) in zip(missing, cursor.fetchall(), strict=True):
            obj.pk = new_id
            obj._state.adding = False
            obj._state.db = "default"


def _value(field, obj):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return field.pre_save(obj, add=True)
    if field.is_relation:
        value = getattr(obj, field.attname)
        if value is None and field.is_cached(obj):
            parent = field.get_cached_value(obj)
            value = parent.pk if parent is not None else None
            setattr(obj, field.attname, value)
        return value
    value = getattr(obj, field.attname)
    if field.get_internal_type() in _PLAIN or value is None:
        return value
    return field.get_db_prep_save(value, connection)


def _copy_history(historical, fields, rows, user) -> None:
    now = timezone.now()
    tracked = {f.attname for f in fields}
    own = [f for f in historical._meta.concrete_fields if f.attname in tracked]
    index = {f.attname: i for i, f in enumerate(fields)}
    columns = [f.column for f in own] + [
        "history_date",
        "history_change_reason",
        "history_type",
        "history_user_id",
    ]
    extra = [now, None, "+", user.pk if user is not None else None]
    picks = [index[f.attname] for f in own]
    _copy(historical._meta.db_table, columns, ([row[i] for i in picks] + extra for row in rows))


def _copy(table: str, columns: list[str], rows) -> None:
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
