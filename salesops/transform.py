"""The transform stage: what the transform DAG and ``salesops build`` share.

Parse-time helpers (``fresh_manifest``, ``project_name``, ``render_env``) stay cheap: the
DAG processor calls them on every parse, so this module imports nothing heavy at the top
(no psycopg, GX, pandas, dbt) and they never touch the warehouse. ``ensure_manifest``
(``dbt parse``, no warehouse needed) runs before salesops parses the DAGs. Run-time
helpers (``warehouse_env``, ``grant_readers``, ``finish``, ``build``) run inside tasks
and commands.

The raw watermark: a successful transform books the highest raw batch it covered in
``ops.pipeline_runs``; the raw quality gate checks the batches after it, and
``salesops run`` skips the transform when there are none.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from salesops.config import settings
from salesops.dbt_project import project_dir

# Folders of a dbt project that hold build output or installed packages, not sources.
_NOT_SOURCES = {"target", "logs", "dbt_packages", ".user.yml"}
# What `dbt ls` needs at parse time to render profiles.yml; no connection is opened.
_RENDER_ENV = {
    "SALESOPS_PG_HOST": "127.0.0.1",
    "SALESOPS_PG_PORT": "5432",
    "SALESOPS_PG_USER": "postgres",
    "SALESOPS_PG_PASSWORD": "salesops",
    "SALESOPS_PG_DBNAME": "salesops",
}
TRANSFORM_COMMAND = "salesops_transform"


# --- parse time ----------------------------------------------------------------------------------

def manifest_path() -> Path:
    """Where every dbt command run through salesops leaves the project's manifest."""
    return settings().home / "dbt" / "target" / "manifest.json"


def _newest_source_mtime(root: Path) -> float:
    """The newest change under the project: files, and folders (a deleted file changes its folder)."""
    newest = 0.0
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames if d not in _NOT_SOURCES and not d.startswith(".")]
        for name in [".", *filenames]:
            try:
                newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime)
            except OSError:
                continue
    return newest


def _manifest_models(manifest: dict) -> set[str]:
    nodes = list(manifest.get("nodes", {}).values())
    nodes += [n for versions in manifest.get("disabled", {}).values() for n in versions]
    return {n["original_file_path"] for n in nodes if n.get("resource_type") == "model"}


def fresh_manifest() -> Path | None:
    """The manifest, if it describes the current dbt project; else None.

    A stale manifest would render yesterday's models, so it is used only when nothing in
    the project (model, yml, macro, seed, snapshot, dbt_project.yml, a deleted file)
    changed after it was written, and when it lists exactly the project's model files (it
    may come from another project: SALESOPS_DBT_PROJECT_DIR).
    """
    path, root = manifest_path(), project_dir()
    try:
        written = path.stat().st_mtime
        if written < _newest_source_mtime(root):
            return None
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    files = {p.relative_to(root).as_posix() for p in (root / "models").rglob("*.sql")}
    return path if _manifest_models(manifest) == files else None


def ensure_manifest(url: str | None = None) -> Path | None:
    """Write the manifest with ``dbt parse`` unless a fresh one exists; None if dbt cannot parse.

    Parsing needs no warehouse: without ``url`` the profile renders with placeholder settings
    (real ones already in the environment are kept). Called before the DAGs are parsed, so
    the transform DAG renders from the manifest in milliseconds instead of running ``dbt ls``.
    With the warehouse's ``url`` (``salesops run``), the parse is dbt's own for the runs that
    follow: they parse only what changed (dbt parses everything again for another profile).
    """
    found = fresh_manifest()
    if found is not None:
        return found
    import contextlib
    import io

    from salesops.dbt_project import PROFILE_ARGS, dbt_env

    env = dbt_env(url or "postgresql://postgres:salesops@127.0.0.1:5432/salesops")
    if url is None:
        env = {k: v for k, v in env.items() if not (k.startswith("SALESOPS_PG_") and k in os.environ)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from dbt.cli.main import dbtRunner

        with contextlib.redirect_stdout(io.StringIO()):
            result = dbtRunner().invoke(["parse", "--quiet", "--project-dir", str(project_dir()),
                                         "--profiles-dir", str(project_dir()), *PROFILE_ARGS])
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return fresh_manifest() if result.success else None


def project_name() -> str:
    """The dbt project's own name (Cosmos would otherwise take the folder's)."""
    import yaml

    return yaml.safe_load((project_dir() / "dbt_project.yml").read_text())["name"]


def render_env() -> dict[str, str]:
    """Placeholder connection settings for rendering; replaced per task by ``warehouse_env``."""
    return dict(_RENDER_ENV)


# --- the transform DAG's dbt task group (parse time) ---------------------------------------

class _RunsInsideTheBuild(logging.Filter):
    """Cosmos warns, on every parse, that it has no task type for dbt's on-run-start/end hooks
    and unit tests ("Unavailable conversion function"). They need none: the watcher's one
    ``dbt build`` runs them (a failing unit test stops its model there). Only those lines go."""

    NODES = ("<DbtResourceType.OPERATION>", "<DbtResourceType.UNIT_TEST>")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Unavailable conversion function")
                    and any(n in message for n in self.NODES))


_graph_log = logging.getLogger("cosmos.airflow.graph")
if not any(isinstance(f, _RunsInsideTheBuild) for f in _graph_log.filters):
    _graph_log.addFilter(_RunsInsideTheBuild())


def dbt_task_group(group_id: str = "dbt"):
    """The dbt project as a Cosmos task group in watcher mode, for the transform DAG.

    One ``dbt build`` (the watcher's producer, dbt in-process: ``DBT_RUNNER``) runs every
    seed, model, snapshot and test; a task per model, seed and snapshot then reports that
    node's outcome (``watch_after_build``). The tests have no tasks of their own: they run in
    the build, where a failing test stops the models built on its model (their tasks fail),
    and fails the build, which stops the marts gate (the producer's ``_done`` task is
    upstream of it). A task per node's tests cost ~0.3 s each under ``dag.test()`` and their
    results an XCom each: a fifth of the DAG's time for nothing a user reads there (a failing
    or warning test is listed by ``salesops run`` and the producer's log). Rendered from a fresh
    manifest (written by ``salesops run|build|docs``) without running dbt; without one,
    Cosmos runs ``dbt ls`` in a subprocess with placeholder settings.
    """
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    manifest = fresh_manifest()
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=project_dir(), project_name=project_name(), manifest_path=manifest,
            install_dbt_deps=False,  # no hub packages: nothing to download, offline by design
            env_vars=render_env()),
        profile_config=ProfileConfig(profile_name="salesops", target_name="warehouse",
                                     profiles_yml_filepath=project_dir() / "profiles.yml"),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.WATCHER,
                                         invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if manifest else LoadMode.DBT_LS,
            invocation_mode=InvocationMode.SUBPROCESS,  # `dbt ls` never imports dbt at parse time
            # No test tasks; the build still runs the tests (``tests_in_the_build``).
            test_behavior=TestBehavior.NONE,
            emit_datasets=False),
        operator_args={"interceptors": [warehouse_env, tests_in_the_build, reuse_partial_parse,
                                        outcome_events_only]},
    )
    watch_after_build(group)
    return group


def watch_after_build(group) -> None:
    """Run the watcher's per-node tasks after its ``dbt build``, whoever executes the DAG.

    In Cosmos's watcher mode a producer task runs one ``dbt build`` and a sensor per model
    (and per model's tests) reports that node's outcome. In a task group the sensors start
    beside the producer and wait for its results; a run that executes one task at a time
    (``dag.test()``, i.e. ``salesops run``) would start a sensor first and wait forever. So
    the producer comes first: the root sensors run once it is done, succeeded or failed
    (each then reports its own node: a failed model fails its task and what depends on it
    stays upstream_failed); when the producer never ran (the raw gate failed) they skip.
    """
    from airflow.sdk import TriggerRule
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    tasks = {t.task_id: t for t in group.iter_tasks()}
    producer = tasks[f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}"]
    for task in tasks.values():
        if hasattr(task, "producer_task_id") and not task.upstream_task_ids & tasks.keys():
            producer >> task
            task.trigger_rule = TriggerRule.ONE_DONE


# --- run time ------------------------------------------------------------------------------------

def warehouse_env(context, operator) -> None:
    """Cosmos interceptor: point a dbt task at the live warehouse just before it runs.

    Runs in the worker, so the connection is resolved where the task executes (the
    embedded server is started if needed) and never at parse time.
    """
    from salesops import warehouse
    from salesops.dbt_project import dbt_env

    env = dbt_env(warehouse.ensure_running())
    # The build's on-run-start hook books it under the DAG run's id; the DAG marks it succeeded
    # after its quality gates (macros/test_scope.sql, ``finish``).
    # (The task instance's run id: in a process that runs the DAG twice, dag.test() in tests,
    # context["run_id"] still names the first run here.)
    env["SALESOPS_DAG_BUILD_ID"] = context["ti"].run_id
    # Cosmos runs dbt in a temporary copy of the project and reads the node's compiled SQL
    # and run results from that copy's target/: keep dbt's default there.
    env["DBT_TARGET_PATH"] = "target"
    env.pop("DBT_PROJECT_DIR", None)
    env.pop("DBT_PROFILES_DIR", None)
    operator.env = {**(operator.env or {}), **env}


def reuse_partial_parse(context, operator) -> None:
    """Cosmos interceptor: the producer's dbt parses only what changed since salesops's last parse.

    Cosmos runs dbt in a copy of the project and seeds it with the newest ``partial_parse.msgpack``
    of the project's ``target/`` or of its cache (``operator.cache_dir``); salesops keeps dbt's
    files under ``$SALESOPS_HOME/dbt/target``, so a first build would parse the whole project
    (~8 s) although ``prepare_warehouse`` just parsed it with the same profile and target. The
    newer of the two files goes into the cache, with its manifest.
    """
    cache = getattr(operator, "cache_dir", None)
    ours = manifest_path().with_name("partial_parse.msgpack")
    if cache is None or not ours.exists():
        return
    import shutil

    target = Path(cache) / "target"
    cached = target / ours.name
    if cached.exists() and cached.stat().st_mtime >= ours.stat().st_mtime:
        return
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(manifest_path(), target / manifest_path().name)
    shutil.copy2(ours, cached)


def tests_in_the_build(context, operator) -> None:
    """Cosmos interceptor: the producer's ``dbt build`` runs the tests too.

    With ``TestBehavior.NONE`` Cosmos narrows the producer to ``--resource-type model seed
    snapshot``; dbt's own build order (a model's tests before what is built on it) is the
    point of the watcher here, so those flags go.
    """
    flags = list(getattr(operator, "dbt_cmd_flags", None) or [])
    if "--resource-type" not in flags:
        return
    kept, skip = [], False
    for flag in flags:
        if skip:
            skip = False
        elif flag == "--resource-type":
            skip = True
        else:
            kept.append(flag)
    operator.dbt_cmd_flags = kept


# dbt lifecycle events that carry no outcome. Cosmos 1.15's watcher producer writes an XCom for
# each of them (~3 per node); its consumers read only a node's last event (upstream issue #2777).
_PROGRESS_EVENTS = frozenset({"NodeStart", "NodeCompiling", "NodeExecuting"})
# dbt's events for a node it skipped because something upstream failed: the producer notes them,
# so that node's task fails instead of skipping.
_UPSTREAM_FAILED_EVENTS = frozenset({"SkippingDetails", "LogSkipBecauseError"})
_FLAGGED = frozenset({"warn", "fail", "error"})
# The producer's count of dbt nodes finished so far (progress), written at most once a second.
NODES_DONE_XCOM = "salesops_nodes_done"
_dbt_log = logging.getLogger("cosmos.operators._watcher.base")


def _forwarded(event: dict) -> bool:
    """Whether Cosmos needs this dbt event: a node's outcome (``NodeFinished``, once per node; a
    test's only when it warned or failed, since no task watches tests), an upstream-failure
    skip, an error, or an event outside any node (dbt's start-up)."""
    info, node = event.get("info") or {}, (event.get("data") or {}).get("node_info") or {}
    name = info.get("name")
    if not node.get("unique_id") or name in _UPSTREAM_FAILED_EVENTS or info.get("level") == "error":
        return True
    if name != "NodeFinished":
        return False
    return node.get("resource_type") not in ("test", "unit_test") or node.get("node_status") in _FLAGGED


def outcome_events_only(context, operator) -> None:
    """Cosmos interceptor: the watcher producer forwards only the dbt events a task reads.

    Cosmos writes an XCom for every dbt event that carries a node's status: each is a request
    to Airflow's execution API (~20-50 ms on 2 cores while dbt runs), and dbt fires several per
    node (start, compiling, executing, the result line, finished) and one per test (~390 here).
    The other events are still logged, as Cosmos logs them; the nodes finished are counted for
    ``salesops run``'s progress line (``NODES_DONE_XCOM``).
    """
    make_parse = getattr(operator, "_make_parse_callable", None)
    if make_parse is None:  # not the producer
        return
    import threading

    from cosmos.operators._watcher import safe_xcom_push

    done = {"nodes": 0, "shown": 0.0}
    lock = threading.Lock()

    def count_finished(extra_kwargs) -> None:
        with lock:
            done["nodes"] += 1
            now = time.monotonic()
            if now - done["shown"] < 1.0:
                return
            done["shown"], nodes = now, done["nodes"]
        ti = ((extra_kwargs or {}).get("context") or {}).get("ti")
        if ti is not None:
            safe_xcom_push(task_instance=ti, key=NODES_DONE_XCOM, value=nodes)

    def filtered_parse():
        parse = make_parse()

        def parse_outcomes(line: str, extra_kwargs) -> None:
            try:
                event = json.loads(line)
            except ValueError:
                return parse(line, extra_kwargs)
            info = event.get("info") or {}
            if info.get("name") in _PROGRESS_EVENTS:
                return None
            if info.get("name") == "NodeFinished":
                count_finished(extra_kwargs)
            if _forwarded(event):
                return parse(line, extra_kwargs)
            if info.get("msg"):
                _dbt_log.log(getattr(logging, str(info.get("level", "info")).upper(), logging.INFO),
                             "%s", info["msg"])
            return None

        return parse_outcomes

    operator._make_parse_callable = filtered_parse


def last_watermark(conn) -> int:
    """The highest raw batch id that a successful transform has already covered."""
    row = conn.execute(
        "select coalesce(max((summary->>'upto_batch_id')::bigint), 0) from ops.pipeline_runs"
        " where command = %s and status = 'success'", (TRANSFORM_COMMAND,)
    ).fetchone()
    return int(row[0])


def pending_batches(conn) -> tuple[int, int]:
    """(since, upto): loaded batches after the last successful transform, up to the newest."""
    since = last_watermark(conn)
    upto = conn.execute(
        "select coalesce(max(batch_id), 0) from ops.ingestion_batches where status = 'loaded'"
    ).fetchone()[0]
    return since, max(int(upto), since)


def mart_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
        " and table_type = 'BASE TABLE' order by table_name").fetchall()]


def mart_row_counts(conn) -> dict[str, int]:
    from psycopg import sql

    return {name: conn.execute(sql.SQL("select count(*) from {}").format(
        sql.Identifier("marts", name))).fetchone()[0] for name in mart_tables(conn)}


def record_transform(conn, status: str, summary: dict) -> None:
    """Book a transform run in ``ops.pipeline_runs``; a success moves the raw watermark."""
    conn.execute(
        "insert into ops.pipeline_runs (command, started_at, finished_at, status, summary)"
        " values (%s, now(), now(), %s, %s)",
        (TRANSFORM_COMMAND, status, json.dumps(summary, default=str)),
    )


def pii_columns(manifest: Path | None) -> dict[str, set[str]]:
    """Mart table -> the columns the dbt project tags ``meta: {contains_pii: true}``."""
    if manifest is None:
        return {}
    nodes = json.loads(manifest.read_text()).get("nodes", {}).values()
    tagged: dict[str, set[str]] = {}
    for node in nodes:
        if node.get("resource_type") != "model" or node.get("schema") != "marts":
            continue
        for name, column in node.get("columns", {}).items():
            meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
            if meta.get("contains_pii"):
                tagged.setdefault(node.get("alias") or node["name"], set()).add(name)
    return tagged


def grant_readers() -> list[str]:
    """Re-apply the reader grants on the warehouse (after dbt re-created the marts)."""
    import psycopg

    from salesops import warehouse
    from salesops.access import apply_grants

    manifest = ensure_manifest()
    if manifest is None:
        raise RuntimeError(f"dbt cannot parse {project_dir()}: the project's contains_pii tags are "
                           "unknown, so no reader grants were applied (BI stays closed)")
    with psycopg.connect(warehouse.ensure_running(role="transformer"), autocommit=True) as conn:
        return apply_grants(conn, pii_columns(manifest))


def finish(raw_gate: dict, marts_gate: dict, build_id: str) -> dict:
    """Book a successful transform in one transaction: its dbt build (``build_id``, the Airflow
    run id its on-run-start hook booked) succeeded, which incremental builds read to test only
    the batches no succeeded build has tested (dbt/macros/test_scope.sql); the raw window; rows
    per mart; the gates' summaries."""
    import psycopg

    from salesops import warehouse

    with psycopg.connect(warehouse.ensure_running(role="transformer")) as conn:
        conn.execute("select ops.mark_transform_build_succeeded(%s)", (build_id,))
        summary = {"since_batch_id": raw_gate["since"], "upto_batch_id": raw_gate["upto"],
                   "marts": mart_row_counts(conn),
                   "gates": {"raw": raw_gate["summary"], "marts": marts_gate["summary"]}}
        record_transform(conn, "success", summary)
    return summary


def last_transform(conn) -> dict | None:
    row = conn.execute(
        "select status, finished_at, summary from ops.pipeline_runs where command = %s"
        " order by run_id desc limit 1", (TRANSFORM_COMMAND,)).fetchone()
    if row is None:
        return None
    return {"status": row[0], "finished_at": row[1], **(row[2] or {})}


# --- dbt build summary (salesops build) -----------------------------------------------------------

@dataclass
class BuildSummary:
    ok: bool
    seconds: float
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # resource type -> status -> n
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)  # data defects counted by warn-severity tests

    def lines(self) -> list[str]:
        out = []
        for kind in ("model", "snapshot", "seed", "test", "unit_test"):
            if kind in self.counts:
                parts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts[kind].items()))
                out.append(f"{kind + 's':11} {sum(self.counts[kind].values()):>4}: {parts}")
        out.extend(f"WARN   {w}" for w in self.warnings)
        if self.warnings:
            out.append(f"{len(self.warnings)} warning(s): flagged rows, kept in the marts and out of the "
                       "totals they cannot count in (docs/data_quality.md)")
        out.extend(f"FAILED {f}" for f in self.failures)
        if self.error:
            out.append(f"error: {self.error}")
        out.append(f"{'succeeded' if self.ok else 'FAILED'} in {self.seconds:.1f}s")
        return out


def summarise_run_results(path: Path, since: float) -> tuple[dict, list[str], list[str]]:
    """Counts per resource type and status, failures and warnings from dbt's run_results.json
    (if written after since). A warning names the test and the rows it counted: the flagged
    data defects (unknown stages, missing rates, ...) of docs/data_quality.md."""
    try:
        if path.stat().st_mtime < since:
            return {}, [], []
        results = json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return {}, [], []
    counts: dict[str, dict[str, int]] = {}
    failures, warnings = [], []
    for r in results:
        kind = r["unique_id"].split(".", 1)[0]
        status = r["status"]
        counts.setdefault(kind, {}).setdefault(status, 0)
        counts[kind][status] += 1
        message = (r.get("message") or "").strip().splitlines()
        if status in ("error", "fail"):
            failures.append(f"{r['unique_id']}: {message[0] if message else status}")
        elif status == "warn":
            name = r["unique_id"].split(".")[2]
            rows = r.get("failures")
            warnings.append(f"{name}: {rows} rows" if rows is not None else
                            f"{name}: {message[0] if message else status}")
    return counts, failures, warnings


def build(url: str, args: list[str] | None = None) -> BuildSummary:
    """``dbt build`` on the warehouse, then the access grants; a summary either way."""
    from salesops.dbt_project import run_dbt

    started = time.time()
    perf = time.perf_counter()
    error = None
    try:
        run_dbt(["build", *(args or [])], url)
    except RuntimeError as exc:
        error = str(exc)
    counts, failures, warnings = summarise_run_results(
        settings().home / "dbt" / "target" / "run_results.json", started)
    if error is None:
        import psycopg

        from salesops.access import apply_grants
        from salesops.warehouse import role_url

        # dbt re-created the marts without grants; the build just wrote a fresh manifest.
        manifest = fresh_manifest() or ensure_manifest()
        if manifest is None:
            error = "no dbt manifest to read the contains_pii tags from: reader grants not applied"
        else:
            with psycopg.connect(role_url(url, "transformer"), autocommit=True) as conn:
                apply_grants(conn, pii_columns(manifest))
    return BuildSummary(ok=error is None, seconds=time.perf_counter() - perf, counts=counts,
                        failures=failures, error=None if failures else error, warnings=warnings)


def refresh_forecast_marts(quotas_changed: bool = False) -> dict:
    """Rebuild what reads the forecasts, scores, adjustments and overrides (everything downstream
    of the ``ml`` and ``finance`` sources: forecast_vs_actual, forecast_adjusted,
    pipeline_forecast; with ``quotas_changed``, the performance marts and what reads them too),
    then the reader grants: the forecast DAG runs it after scoring and loading targets, so those
    marts show this run's forecasts and quotas without waiting for the next transform."""
    from salesops.setup_warehouse import prepare

    select = ["source:ml+", "source:finance+"]
    if quotas_changed:  # the performance marts read finance.quotas when it exists (rep_quotas_select)
        select += ["rep_performance_monthly+", "team_performance_monthly+"]
    summary = build(prepare(), ["--select", *select])
    if not summary.ok:
        raise RuntimeError(f"the forecast marts did not build: {summary.error or summary.failures}")
    return {"seconds": round(summary.seconds, 1), "counts": summary.counts}
