"""The transform DAG's Cosmos interceptors: which dbt events reach Cosmos, and the producer's flags.

The DAG runs that depend on them are in tests/e2e/test_transform_dag.py; these pin the rules.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from salesops import transform


def _event(name: str, resource_type: str | None = None, status: str | None = None,
           level: str = "info") -> dict:
    node = {"unique_id": f"{resource_type}.salesops.x", "resource_type": resource_type,
            "node_status": status} if resource_type else {}
    return {"info": {"name": name, "level": level, "msg": "m"}, "data": {"node_info": node}}


def test_only_outcomes_a_task_reads_reach_cosmos():
    forwarded = transform._forwarded
    assert forwarded(_event("NodeFinished", "model", "success"))
    assert forwarded(_event("NodeFinished", "seed", "error"))
    assert forwarded(_event("NodeFinished", "test", "warn"))  # listed as a flagged row count
    assert forwarded(_event("NodeFinished", "test", "fail"))
    assert forwarded(_event("SkippingDetails", "model", "skipped"))  # its task fails, not skips
    assert forwarded(_event("RunResultError", "model", "error", level="error"))
    assert forwarded(_event("MainReportVersion"))  # outside any node
    # No task watches a test, and a node's other events would write its status again.
    assert not forwarded(_event("NodeFinished", "test", "pass"))
    assert not forwarded(_event("NodeFinished", "unit_test", "pass"))
    assert not forwarded(_event("LogModelResult", "model", "success"))
    assert not forwarded(_event("SQLQuery", "model", "executing"))


def test_dropped_events_are_logged_and_finished_nodes_counted(monkeypatch):
    seen, pushed = [], []
    producer = SimpleNamespace(_make_parse_callable=lambda: lambda line, extra: seen.append(json.loads(line)))
    transform.outcome_events_only({}, producer)
    parse = producer._make_parse_callable()
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.append((key, value)))
    extra = {"context": {"ti": ti}}
    events = [_event("NodeStart", "model", "started"), _event("LogModelResult", "model", "success"),
              _event("NodeFinished", "model", "success"), _event("NodeFinished", "test", "pass"),
              _event("NodeFinished", "test", "warn")]
    logged = []
    monkeypatch.setattr(transform._dbt_log, "log", lambda level, fmt, msg: logged.append(msg))
    for event in events:
        parse(json.dumps(event), extra)
    assert [e["info"]["name"] for e in seen] == ["NodeFinished", "NodeFinished"]
    assert [e["data"]["node_info"]["resource_type"] for e in seen] == ["model", "test"]
    assert logged == ["m", "m"]  # the result line and the passed test's; NodeStart is not logged
    # The count of finished nodes, for the progress line: written at most once a second.
    assert pushed == [(transform.NODES_DONE_XCOM, 1)]


def test_the_producer_builds_the_tests_too():
    producer = SimpleNamespace(dbt_cmd_flags=["--resource-type", "model", "--full-refresh",
                                              "--resource-type", "seed", "--resource-type", "snapshot"])
    transform.tests_in_the_build({}, producer)
    assert producer.dbt_cmd_flags == ["--full-refresh"]
