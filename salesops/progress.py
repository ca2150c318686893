"""Progress of a DAG run executing in this process (``dag.test()``), for the person watching.

A thread reads the run's task states from Airflow's metadata DB once a second: tasks done
of total, the task running now and, while the transform's one ``dbt build`` runs (the
Cosmos watcher's producer), its dbt nodes done of total (the producer writes its count of
finished nodes to an XCom, ``transform.NODES_DONE_XCOM``). In a terminal that is one line
rewritten in place; piped, a plain line when something changed, at most every ``plain_every`` seconds.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

DONE_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


@dataclass(frozen=True)
class Snapshot:
    done: int
    total: int
    failed: int
    running: tuple[str, ...]
    dbt_nodes: tuple[int, int] | None = None  # finished, total, while the dbt build runs

    def line(self, elapsed: float) -> str:
        parts = [f"{self.done}/{self.total} tasks done"]
        if self.failed:
            parts[0] += f" ({self.failed} failed)"
        if self.dbt_nodes:
            parts.append(f"dbt build {self.dbt_nodes[0]}/{self.dbt_nodes[1]} nodes")
        if self.running:
            parts.append("running " + ", ".join(self.running))
        return f"      {' · '.join(parts)} ({elapsed:.0f}s)"


def _producer() -> str:
    """The task id (within its group) of the watcher's producer, Cosmos's own constant."""
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    return PRODUCER_WATCHER_TASK_ID


def dbt_build_nodes() -> int:
    """Nodes a whole-project ``dbt build`` runs (models, seeds, snapshots, data and unit tests)."""
    import json

    from salesops.transform import ensure_manifest

    path = ensure_manifest()
    if path is None:
        return 0
    manifest = json.loads(path.read_text())
    kinds = {"model", "seed", "snapshot", "test"}
    nodes = sum(n["resource_type"] in kinds for n in manifest["nodes"].values())
    return nodes + len(manifest.get("unit_tests", {}))


def snapshot(dag_id: str, since: datetime, node_total: int | None = None) -> Snapshot | None:
    """The newest run of ``dag_id`` started at or after ``since``, or None before it exists."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from salesops.transform import NODES_DONE_XCOM

    with create_session() as session:
        run_id = session.scalar(select(DagRun.run_id)
                                .where(DagRun.dag_id == dag_id, DagRun.start_date >= since)
                                .order_by(DagRun.id.desc()).limit(1))
        if run_id is None:
            return None
        states = session.execute(select(TaskInstance.task_id, TaskInstance.state).where(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)).all()
        running = tuple(sorted(t for t, s in states if s == "running"))
        nodes = None
        if any(t.endswith(_producer()) for t in running):
            finished = session.scalar(select(XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id,
                XComModel.task_id.endswith(_producer()), XComModel.key == NODES_DONE_XCOM))
            if isinstance(finished, (str, bytes)):
                finished = json.loads(finished)
            nodes = (int(finished or 0),
                     node_total if node_total is not None else dbt_build_nodes())
    return Snapshot(done=sum(s in DONE_STATES for _, s in states), total=len(states),
                    failed=sum(s in ("failed", "upstream_failed") for _, s in states),
                    running=running, dbt_nodes=nodes)


def dbt_flags(dag_id: str, run_id: str) -> list[str]:
    """The dbt tests of the run's build that warned or failed, as ``salesops build`` lists them
    ("WARN name: N rows"), from the outcome the watcher's producer kept per node."""
    import json
    import re

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(select(XComModel.key, XComModel.value).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id,
            XComModel.task_id.endswith(_producer()), XComModel.key.endswith("_dbt_event"))).all()
    flagged = []
    for key, value in rows:
        event = json.loads(value) if isinstance(value, (str, bytes)) else value
        status = (event or {}).get("status")
        if status not in ("warn", "fail", "error"):
            continue
        # <type>__<package>__<name>[__<hash>]: the unique id with its dots as "__"
        name = re.sub(r"__[0-9a-f]{10}$", "", key.removesuffix("_dbt_event").split("__", 2)[2])
        found = re.match(r"Got (\d+) results?", event.get("msg") or "")
        detail = f"{found[1]} rows" if found else (event.get("msg") or status)
        flagged.append(f"{'WARN  ' if status == 'warn' else 'FAILED'} {name}: {detail}")
    return sorted(flagged)


class DagRunProgress:
    """``with DagRunProgress(dag_id, sys.stdout): dag.test()`` shows the run's progress."""

    def __init__(self, dag_id: str, out: TextIO, interval: float = 1.0, plain_every: float = 10.0):
        self.dag_id, self.out, self.interval, self.plain_every = dag_id, out, interval, plain_every
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.lines: list[str] = []  # what was shown, for the caller and tests
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._node_total: int | None = None
        self._width = 0
        self._last_plain = 0.0

    def __enter__(self) -> DagRunProgress:
        self._since = datetime.now(UTC).replace(microsecond=0)
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name=f"progress-{self.dag_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self.tty and self._width:
            self.out.write("\r" + " " * self._width + "\r")
            self.out.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                snap = self._snapshot()
            except Exception:  # noqa: BLE001 - the metadata DB may be locked by a write: next tick
                continue
            if snap is not None:
                self._show(snap)

    def _snapshot(self) -> Snapshot | None:
        snap = snapshot(self.dag_id, self._since, self._node_total)
        if snap is not None and snap.dbt_nodes is not None:
            self._node_total = snap.dbt_nodes[1]
        return snap

    def _show(self, snap: Snapshot) -> None:
        now = time.monotonic()
        line = snap.line(now - self._started)
        if self.tty:
            self._width = max(self._width, len(line))
            self.out.write("\r" + line.ljust(self._width))
        elif now - self._last_plain >= self.plain_every and (
                not self.lines or _sans_time(line) != _sans_time(self.lines[-1])):
            self._last_plain = now
            self.out.write(line + "\n")
        else:
            return
        self.out.flush()
        self.lines.append(line)


def _sans_time(line: str) -> str:
    return line.rsplit(" (", 1)[0]
