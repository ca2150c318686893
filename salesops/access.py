"""Reader grants on the marts, re-applied after every dbt build.

dbt re-creates mart tables on each build and a new table carries no grants, so this
runs after dbt (transform DAG task ``apply_grants``, ``salesops build``). For every
table in ``marts``:

- ``finance_reader`` may select everything;
- a table without personal data: ``bi_reader`` and ``salesops_ml`` may select it;
- a table with personal data: they may select only its other columns, and read whole
  rows through ``marts.<table>_masked``, a view that masks the personal columns.

A column is personal data when the dbt project tags it (``meta: {contains_pii: true}``,
read from dbt's manifest), when its name says so (email, contact_email, phone_number,
mobile) or when its values carry email addresses (a natural key such as
``<event>:<email>``, a list of source record ids). Emails and phones are masked with
``access.mask_email`` / ``access.mask_phone`` (migration V003), addresses inside other
values with ``access.redact_emails`` (V004); other tagged text keeps its first character
(``宋***``) and tagged non-text columns are withheld (null).

It fails closed: until it has run, BI cannot read a rebuilt mart at all. It runs as the
transformer (the marts' owner); finance tables reach ``finance_reader`` through default
privileges (migration V008). Idempotent; one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import psycopg
from psycopg import sql

FULL_READERS = ("finance_reader",)
MASKED_READERS = ("bi_reader", "salesops_ml")
MASKED_SUFFIX = "_masked"
# A text column is personal data when a word of its name is one of these (email,
# contact_email, phone_number, mobile, ...); booleans such as has_email are not.
_PII_WORDS = {
    "email": "access.mask_email", "mail": "access.mask_email",
    "phone": "access.mask_phone", "mobile": "access.mask_phone", "telephone": "access.mask_phone",
}
_TEXT_TYPES = {"text", "character varying", "character"}
_TEXT_ARRAYS = {"_text", "_varchar", "_bpchar"}
# An email address anywhere inside a value (the pattern access.redact_emails masks).
EMAIL_INSIDE = r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"


def masking_function(column: str, data_type: str = "text") -> str | None:
    """The masking function for a column named as personal data, or None if it is not one."""
    if data_type not in _TEXT_TYPES:
        return None
    for word in column.lower().split("_"):
        if word in _PII_WORDS:
            return _PII_WORDS[word]
    return None


def _columns(conn: psycopg.Connection, schema: str, table: str) -> list[tuple[str, str, str, str]]:
    """(name, information_schema data type, udt name, SQL type) of each column, in order."""
    return conn.execute(
        "select c.column_name, c.data_type, c.udt_name, format_type(a.atttypid, a.atttypmod)"
        " from information_schema.columns c join pg_attribute a"
        " on a.attrelid = format('%%I.%%I', c.table_schema, c.table_name)::regclass"
        " and a.attname = c.column_name"
        " where c.table_schema = %s and c.table_name = %s order by c.ordinal_position",
        (schema, table)).fetchall()


def _holds_emails(conn: psycopg.Connection, table: sql.Composable, column: str) -> bool:
    found = conn.execute(sql.SQL("select exists (select 1 from {} where {}::text ~ %s)").format(
        table, sql.Identifier(column)), (EMAIL_INSIDE,)).fetchone()
    return bool(found[0])


def personal_columns(conn: psycopg.Connection, schema: str, table: str,
                     tagged: Collection[str] = ()) -> dict[str, sql.Composable]:
    """Personal-data columns of a table, each with the masked expression BI sees instead.

    ``tagged``: the columns the dbt project marks ``contains_pii``.
    """
    ident = sql.Identifier(schema, table)
    masked: dict[str, sql.Composable] = {}
    for column, data_type, udt, sql_type in _columns(conn, schema, table):
        col = sql.Identifier(column)
        if function := masking_function(column, data_type):
            masked[column] = sql.SQL("{}({}::text)").format(sql.SQL(function), col)
        elif column in tagged and data_type in _TEXT_TYPES:
            masked[column] = sql.SQL("left({}::text, 1) || '***'").format(col)
        elif column in tagged:
            masked[column] = sql.SQL("null::{}").format(sql.SQL(sql_type))
        elif data_type in _TEXT_TYPES and _holds_emails(conn, ident, column):
            masked[column] = sql.SQL("access.redact_emails({}::text)").format(col)
        elif udt in _TEXT_ARRAYS and _holds_emails(conn, ident, column):
            masked[column] = sql.SQL("access.redact_emails({}::text[])").format(col)
    return masked


_OWN_VIEW = "Re-created after every dbt build by salesops.access.apply_grants."


def _drop_masked_view(conn: psycopg.Connection, table: str) -> None:
    """Drop ``marts.<table>_masked`` if this module made it; refuse to touch anything else."""
    name = table + MASKED_SUFFIX
    row = conn.execute(
        "select c.relkind, obj_description(c.oid, 'pg_class') from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'marts' and c.relname = %s",
        (name,)).fetchone()
    if row is None:
        return
    if row[0] != "v" or _OWN_VIEW not in (row[1] or ""):
        raise RuntimeError(f"marts.{name} exists and is not the masking view of marts.{table}: "
                           "rename that dbt model (the *_masked names are reserved for masking views)")
    conn.execute(sql.SQL("drop view {}").format(sql.Identifier("marts", name)))


def _roles(names) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def apply_grants(conn: psycopg.Connection, tagged: Mapping[str, Collection[str]] | None = None) -> list[str]:
    """Grant the readers their view of the marts; returns what was done, per table.

    ``tagged``: mart table -> columns the dbt project marks ``contains_pii``
    (``salesops.transform.pii_columns``).
    """
    done = []
    with conn.transaction():
        tables = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " and table_type = 'BASE TABLE' order by table_name").fetchall()]
        for table in tables:
            ident = sql.Identifier("marts", table)
            columns = [c[0] for c in _columns(conn, "marts", table)]
            pii = personal_columns(conn, "marts", table, (tagged or {}).get(table, ()))
            conn.execute(sql.SQL("grant select on {} to {}").format(ident, _roles(FULL_READERS)))
            view = sql.Identifier("marts", table + MASKED_SUFFIX)
            _drop_masked_view(conn, table)
            if not pii:
                conn.execute(sql.SQL("grant select on {} to {}").format(ident, _roles(MASKED_READERS)))
                done.append(f"marts.{table}: select for {', '.join(FULL_READERS + MASKED_READERS)}")
                continue
            # Column privileges: the other columns directly, the personal ones only masked.
            conn.execute(sql.SQL("revoke select on {} from {}").format(ident, _roles(MASKED_READERS)))
            safe = [c for c in columns if c not in pii]
            if safe:
                conn.execute(sql.SQL("grant select ({}) on {} to {}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in safe), ident, _roles(MASKED_READERS)))
            select_list = sql.SQL(", ").join(
                sql.SQL("{} as {}").format(pii[c], sql.Identifier(c)) if c in pii else sql.Identifier(c)
                for c in columns)
            # Created afresh (dropped above): a changed column list cannot be "replaced" into a view.
            conn.execute(sql.SQL("create view {} as select {} from {}").format(view, select_list, ident))
            conn.execute(sql.SQL("comment on view {} is {}").format(view, sql.Literal(
                f"marts.{table} with {', '.join(sorted(pii))} masked; for BI and ML readers. {_OWN_VIEW}")))
            conn.execute(sql.SQL("grant select on {} to {}").format(
                view, _roles(FULL_READERS + MASKED_READERS)))
            done.append(f"marts.{table}: select for {', '.join(FULL_READERS)}; "
                        f"{', '.join(MASKED_READERS)} without {', '.join(sorted(pii))} "
                        f"(masked in marts.{table}{MASKED_SUFFIX})")
    return done
