"""Log-ins to the warehouse: reader passwords created, rotated and revoked by the owner.

Readers (``bi_reader``, ``finance_reader``) have no password until the owner asks for
their URL (``salesops warehouse url --role ...``) or rotates it (``salesops access
rotate``); without one, scram authentication refuses them. Passwords live in
``$SALESOPS_HOME/credentials.json`` (0600) beside the service roles'.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from salesops import credentials, warehouse

READERS = ("bi_reader", "finance_reader")
ROLES = {
    "salesops_loader": "lands files: raw, ops (batches, rejects), reference",
    "salesops_transformer": "dbt: reads raw/ops/reference, owns staging/intermediate/marts/snapshots",
    "salesops_ml": "models: reads masked marts, writes ml and the payout runs",
    "salesops_finance": "finance's decisions: reads finance, locks months, enters adjustments and splits",
    "bi_reader": "BI: marts with personal data masked (marts.*_masked)",
    "finance_reader": "finance: marts and finance",
}


def may_set_passwords(conn: psycopg.Connection) -> bool:
    """Whether the connected role may give roles passwords (superuser or CREATEROLE)."""
    allowed = conn.execute(
        "select rolsuper or rolcreaterole from pg_roles where rolname = current_user").fetchone()
    return bool(allowed and allowed[0])


def set_login(conn: psycopg.Connection, role: str, secret: str | None) -> None:
    """Let ``role`` log in with ``secret`` (never as superuser or role creator); None: no log-in."""
    if secret is None:
        conn.execute(sql.SQL("alter role {} with nologin password null").format(sql.Identifier(role)))
    else:
        conn.execute(sql.SQL("alter role {} with login nosuperuser nocreaterole nocreatedb "
                             "password {}").format(sql.Identifier(role), sql.Literal(secret)))


def _set_password(url: str, role: str, secret: str | None) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if not may_set_passwords(conn):
            raise warehouse.WarehouseError(
                f"the warehouse owner in this URL may not set passwords (needs CREATEROLE): ask the "
                f"database administrator to give {role} a password")
        set_login(conn, role, secret)


def rotate(url: str, role: str) -> None:
    credentials.rotate(role, lambda secret: _set_password(url, role, secret))


def revoke(url: str, role: str) -> None:
    _set_password(url, role, None)
    credentials.forget(role)


def login_url(url: str, role: str) -> str:
    """The URL of a role that logs in with its own password, created on first use."""
    if credentials.known(role) is None:
        rotate(url, role)
    return warehouse.role_url(url, role)


def describe(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        can_login = dict(conn.execute(
            "select rolname, rolcanlogin from pg_roles where rolname = any(%s)", (list(ROLES),)).fetchall())
    lines = []
    for role, what in ROLES.items():
        state = ("password set" if credentials.known(role) else "no password: cannot log in"
                 ) if can_login.get(role) else "cannot log in"
        lines.append(f"{role:22} {state:28} {what}")
    return lines
