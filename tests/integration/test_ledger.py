"""Decisions survive refreshes: the lead-assignment ledger (docs/ledgers.md).

A real demo warehouse is built once; the tests then change what a routing from scratch
depends on (reps join, a rep moves to another office, the deliveries' order changes, a
person re-assigns a lead) and check that incremental runs and `--full-refresh` keep every
lead with the rep the ledger recorded, that new leads continue each office's queue, and
that the ledger is append-only in the database itself.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
import pytest

from ingestion.loader import ingest_path
from salesops.dbt_project import run_dbt
from tests.conftest import copy_of, query

ROUTED = ("select lead_key, assignment_method, assigned_rep_name, routed_regional_office, queue_position"
          " from intermediate.int_leads_routed")
LEDGER = ("select lead_key, assignment_method, assigned_rep_name, routed_regional_office, queue_position"
          " from ledger.lead_assignments")
NEW_LEADS = {"ledger-us-1": "United States", "ledger-de-1": "Germany", "ledger-jp-1": "Japan"}


def _by_lead(rows) -> dict[str, tuple]:
    return {lead_key: tuple(rest) for lead_key, *rest in rows}


def _assert_clean(result) -> None:
    bad = {r.node.name: str(r.status) for r in result.result.results
           if str(r.status) not in ("success", "pass", "warn")}
    assert not bad, f"dbt nodes failed: {bad}"


@pytest.fixture(scope="module")
def routed_warehouse(server_url, demo_build, tmp_path_factory):
    """The demo data (scale 0.1), built once (a copy of the session's demo build):
    (url, round-robin assignments of that build, a folder for deltas)."""
    template, result = demo_build
    _assert_clean(result)
    with copy_of(server_url, template) as url:
        first = _by_lead(query(url, ROUTED + " where assignment_method = 'round_robin'"))
        yield url, first, tmp_path_factory.mktemp("delta")


def test_a_build_records_every_round_robin_decision_once(routed_warehouse):
    url, first, _ = routed_warehouse
    assert len(first) > 300
    assert _by_lead(query(url, LEDGER)) == first
    # recorded by the routing model of the build that decided, one queue per office
    (build,), = query(url, "select invocation_id from ops.transform_builds")
    assert query(url, "select recorded_by, dbt_invocation_id, count(*), count(distinct lead_key)"
                      " from ledger.lead_assignments group by 1, 2") == [
        ("int_leads_routed", build, len(first), len(first))]
    assert query(url, "select bool_and(n = last) from (select count(*) as n, max(queue_position) as last"
                      " from ledger.lead_assignments group by routed_regional_office) as q") == [(True,)]
    # owners from the source data are facts, not decisions: never in the ledger
    assert query(url, "select count(*) from ledger.lead_assignments join intermediate.int_leads_routed"
                      " as r using (lead_key) where r.assignment_method <> 'round_robin'") == [(0,)]


def _write_delta(folder: Path, reps: list[tuple[str, str, str]]) -> None:
    """A new reps export (``reps``: name, manager, office) and three new, unowned web-form leads."""
    (folder / "crm_export").mkdir(parents=True)
    (folder / "web_forms").mkdir(parents=True)
    with open(folder / "crm_export" / "sales_teams.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sales_agent", "manager", "regional_office"])
        writer.writerows(reps)
    with open(folder / "web_forms" / "ledger_delta.jsonl", "w") as fh:
        for submission_id, country in NEW_LEADS.items():
            fh.write(json.dumps({"submission_id": submission_id, "submitted_at": "2017-12-31T10:00:00Z",
                                 "email": f"{submission_id}@example.org", "country": country}) + "\n")


def test_reps_change_deliveries_reorder_and_a_full_refresh_keep_every_assignment(routed_warehouse):
    url, first, delta = routed_warehouse
    first = dict(first)
    reps = query(url, "select rep_name, manager_name, regional_office"
                      " from staging.stg_crm_export__sales_reps order by 3, 1")
    offices = sorted({office for _, _, office in reps})
    # reps join every office, first in name order (every later slot moves); a rep moves office
    joined = [(f"Aaron Aardvark {office}", "New Manager", office) for office in offices]
    moved_name, moved_manager, moved_from = next(r for r in reps if r[2] == "Central")
    _write_delta(delta, [*joined, (moved_name, moved_manager, "West")])
    for channel in ("crm_export", "web_forms"):
        assert {r.status for r in ingest_path(url, channel, str(delta / channel))} == {"loaded"}
    queue_ends = dict(query(url, "select routed_regional_office, max(queue_position)"
                                 " from ledger.lead_assignments group by 1"))
    # a sales manager re-assigns one lead: a new row, the latest one counts
    reassigned = min(first)
    with psycopg.connect(url) as conn:
        conn.execute("insert into ledger.lead_assignments (lead_key, assigned_rep_name, assignment_method,"
                     " recorded_by) values (%s, %s, 'reassigned', 'test: sales manager')",
                     (reassigned, moved_name))
    original = first.pop(reassigned)

    # an incremental run (models only: the full refresh below tests everything) -- every lead
    # keeps its rep; the new leads continue their office's queue
    _assert_clean(run_dbt(["run"], url))
    routed = _by_lead(query(url, ROUTED))
    assert {k: routed[k] for k in first} == first
    assert routed[reassigned] == ("reassigned", moved_name, None, None)
    new = {k: routed[f"web_forms:{k}"] for k in NEW_LEADS}
    assert {method for method, *_ in new.values()} == {"round_robin"}
    reps_now = query(url, "select regional_office, rep_name from staging.stg_crm_export__sales_reps"
                          " order by 1, 2")
    for _, rep, office, position in new.values():
        office_reps = [name for o, name in reps_now if o == office]
        assert position > queue_ends[office]
        assert rep == office_reps[(position - 1) % len(office_reps)]
    assert sorted(p for _, _, o, p in new.values() if o == "Central") == [
        queue_ends["Central"] + i for i in range(1, 1 + sum(o == "Central" for _, _, o, _ in new.values()))]
    # the moved rep keeps the Central leads the ledger gave them (the office shows where they are now)
    kept = [k for k, (_, rep, _, _) in first.items() if rep == moved_name]
    assert kept and query(url, "select distinct assigned_rep_name, assigned_regional_office"
                               " from marts.fct_leads where lead_key = any(%s)", (kept,)) == [
        (moved_name, "West")]
    # the ledger recorded the new decisions; the re-assigned lead keeps its first decision too
    ledger = _by_lead(query(url, LEDGER + " where assignment_method = 'round_robin'"))
    assert ledger == {**{k: v for k, v in routed.items() if v[0] == "round_robin"}, reassigned: original}

    # routing from scratch would now differ for most leads: the new reps shift every slot,
    # and the deliveries arrive in another order (as if raw were re-loaded web forms first)
    shifted = query(url, "select count(*) from ledger.lead_assignments as l join ("
                         "select regional_office, rep_name, row_number() over (partition by"
                         " regional_office order by rep_name) as slot, count(*) over (partition by"
                         " regional_office) as n from staging.stg_crm_export__sales_reps) as r"
                         " on l.routed_regional_office = r.regional_office"
                         " and (l.queue_position - 1) % r.n + 1 = r.slot"
                         " where r.rep_name <> l.assigned_rep_name")[0][0]
    assert shifted > len(first) / 2
    with psycopg.connect(url) as conn:
        conn.execute("update raw.web_form_leads set _loaded_at = _loaded_at - interval '365 days'")

    _assert_clean(run_dbt(["build", "--full-refresh"], url))
    refreshed = _by_lead(query(url, ROUTED))
    assert refreshed == routed
    assert {k: refreshed[k] for k in first} == first
    # the refresh did re-read the deliveries in their new order, and recorded nothing new
    assert query(url, "select max(first_loaded_at) filter (where channel = 'web_forms')"
                      " < min(first_loaded_at) filter (where channel <> 'web_forms')"
                      " from intermediate.int_leads_unioned") == [(True,)]
    assert query(url, "select count(*) from ledger.lead_assignments") == [(len(ledger) + 1,)]
    assert query(url, "select assigned_rep_name from staging.stg_ledger__lead_assignments"
                      " where is_current and lead_key = %s", (reassigned,)) == [(moved_name,)]


def test_the_ledger_is_append_only(db_url):
    grants = query(db_url, "select privilege_type from information_schema.role_table_grants"
                           " where table_schema = 'ledger' and table_name = 'lead_assignments'"
                           " and grantee = 'salesops_transformer' order by 1")
    assert grants == [("INSERT",), ("SELECT",)]
    for role in ("salesops_transformer", "public", "salesops_loader", "bi_reader", "finance_reader"):
        assert query(db_url, "select has_table_privilege(%s, 'ledger.lead_assignments',"
                             " 'update, delete, truncate')", (role,)) == [(False,)], role
    for role in ("public", "salesops_loader", "salesops_ml", "bi_reader", "finance_reader"):
        assert query(db_url, "select has_table_privilege(%s, 'ledger.lead_assignments',"
                             " 'select, insert')", (role,)) == [(False,)], role
    insert = ("insert into ledger.lead_assignments (lead_key, assigned_rep_name, assignment_method,"
              " routed_regional_office, queue_position, recorded_by)"
              " values ('web_forms:1', 'Ann', 'round_robin', 'Central', 1, 'test')")
    # tried: the transformer reads and appends, and can change nothing
    with psycopg.connect(db_url) as conn:
        conn.execute("set role salesops_transformer")
        conn.execute(insert)
        assert conn.execute("select count(*) from ledger.lead_assignments").fetchone() == (1,)
        for statement in ("update ledger.lead_assignments set assigned_rep_name = 'Bob'",
                          "delete from ledger.lead_assignments",
                          "truncate ledger.lead_assignments"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)
    # not even the owner (a superuser) changes a decision by mistake: the trigger refuses
    with psycopg.connect(db_url) as conn:
        for statement in ("update ledger.lead_assignments set assigned_rep_name = 'Bob'",
                          "delete from ledger.lead_assignments",
                          "truncate ledger.lead_assignments"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"), \
                    conn.transaction():
                conn.execute(statement)
        # one routing decision per lead; a second one is refused (dbt's insert skips it)
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute(insert)
        assert conn.execute("select count(*) from ledger.lead_assignments").fetchone() == (1,)
