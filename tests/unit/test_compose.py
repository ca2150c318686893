"""Static checks of the production-like stack: docker-compose.yml, docker/, .env.example.

No Docker engine is needed (or used): the compose file is parsed with PyYAML, which resolves
the anchors and `<<` merge keys the way Compose does, and checked against the rules Compose
itself enforces at `up` time (unknown keys, depends_on targets and conditions, healthchecks
behind `service_healthy`, declared volumes, port clashes, ${VAR} interpolation) plus this
project's own contract (the SALESOPS_* names the code reads, telemetry off, Airflow 3 settings).

The full Compose Specification JSON schema is not validated here: no installed package ships a
copy and nothing may be downloaded. `validate_compose` covers the parts of it this file uses
(key names of the top level, services, healthchecks, depends_on and volume mounts).
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import importlib.util
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "docker" / "Dockerfile"
DOCKERIGNORE = REPO / "docker" / "Dockerfile.dockerignore"
INITDB = REPO / "docker" / "initdb"

DATABASES = ("warehouse", "airflow-metadata")
AIRFLOW_INIT = "airflow-init"
AIRFLOW_RUNNING = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
AIRFLOW_SERVICES = (AIRFLOW_INIT, *AIRFLOW_RUNNING)
REQUIRED_SERVICES = (*DATABASES, *AIRFLOW_SERVICES, "mlflow")

# The variables salesops/config.py reads; the compose stack must set exactly these names.
SALESOPS_VARS = {"SALESOPS_HOME", "SALESOPS_WAREHOUSE_URL", "SALESOPS_LANDING_URI"}
TELEMETRY_OFF = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "SCARF_ANALYTICS": "false",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "false",
}
# Settings every Airflow component must agree on (a mismatch breaks task auth or scheduling).
AIRFLOW_SHARED = (
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__CORE__FERNET_KEY",
)

# --- the subset of the Compose Specification this validator knows --------------------------

TOP_LEVEL_KEYS = {
    "version",
    "name",
    "include",
    "services",
    "networks",
    "volumes",
    "secrets",
    "configs",
    "models",
}
SERVICE_KEYS = {
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "pull_refresh_after",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
}
BUILD_KEYS = {
    "context",
    "dockerfile",
    "dockerfile_inline",
    "entitlements",
    "args",
    "ssh",
    "labels",
    "cache_from",
    "cache_to",
    "no_cache",
    "additional_contexts",
    "network",
    "pull",
    "target",
    "shm_size",
    "extra_hosts",
    "isolation",
    "privileged",
    "secrets",
    "tags",
    "ulimits",
    "platforms",
}
HEALTHCHECK_KEYS = {"disable", "interval", "retries", "test", "timeout", "start_period", "start_interval"}
DEPENDS_ON_KEYS = {"condition", "restart", "required"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
RESTART_POLICIES = {"no", "always", "on-failure", "unless-stopped"}
VOLUME_MOUNT_KEYS = {
    "type",
    "source",
    "target",
    "read_only",
    "consistency",
    "bind",
    "volume",
    "tmpfs",
    "image",
}
DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$")
NAME = re.compile(r"^[a-zA-Z0-9._-]+$")

# --- interpolation ---------------------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolations(text: str) -> list[tuple[str, str | None, str | None]]:
    """(name, operator, argument) of every ${VAR...} / $VAR in text; `$$` is an escaped `$`."""
    found = []
    for match in _INTERPOLATION.finditer(text):
        if match["escaped"]:
            continue
        if match["braced"]:
            found.append((match["braced"], match["op"], match["arg"]))
        else:
            found.append((match["named"], None, None))
    return found


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Substitute like Compose does; unset variables take their defaults (or "")."""
    env = env or {}

    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg, value = match["op"], match["arg"] or "", env.get(name)
        if op == ":-":
            return value if value else arg
        if op == "-":
            return arg if value is None else value
        if op in (":?", "?"):
            if value is None or (op == ":?" and not value):
                raise ValueError(f"required variable {name} is not set: {arg}")
            return value
        if op == ":+":
            return arg if value else ""
        if op == "+":
            return arg if value is not None else ""
        return value or ""

    return _INTERPOLATION.sub(substitute, text)


def strings_in(node) -> list[str]:
    """Every string value in a parsed YAML tree (mapping keys excluded)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings_in(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    return []


# --- helpers over the parsed file ------------------------------------------------------------


def load_compose(path: Path = COMPOSE_FILE) -> dict:
    with path.open() as handle:
        return yaml.safe_load(handle)  # resolves anchors and << merge keys


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: None if value is None else str(value) for key, value in env.items()}


def resolved_environment(service: dict) -> dict[str, str]:
    return {k: interpolate(v) if v is not None else None for k, v in environment(service).items()}


def depends_on(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def command_list(service: dict, key: str = "command") -> list[str]:
    value = service.get(key)
    if value is None:
        return []
    return value.split() if isinstance(value, str) else [str(part) for part in value]


def mounts(service: dict) -> list[dict]:
    """Volume mounts in long form: {type, source, target, read_only}."""
    result = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            result.append(entry)
            continue
        parts = interpolate(entry).split(":")
        if len(parts) == 1:
            result.append({"type": "volume", "source": None, "target": parts[0]})
            continue
        source, target, *mode = parts
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        read_only = bool(mode) and "ro" in mode[0].split(",")
        result.append({"type": kind, "source": source, "target": target, "read_only": read_only})
    return result


def published_ports(service: dict) -> list[tuple[str, int, str]]:
    """(host_ip, host_port, protocol) for each published port of a service."""
    published = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            if entry.get("published") is None:
                continue
            host_ip = entry.get("host_ip", "0.0.0.0")
            ports = [int(interpolate(str(entry["published"])))]
            protocol = entry.get("protocol", "tcp")
        else:
            spec, _, protocol = interpolate(str(entry)).partition("/")
            protocol = protocol or "tcp"
            host_ip = "0.0.0.0"
            if spec.startswith("["):  # [ipv6]:host:container
                host_ip, _, spec = spec[1:].partition("]:")
            parts = spec.split(":")
            if len(parts) == 1:
                continue  # container port only: Docker picks a free host port
            if len(parts) == 3:
                host_ip, host, _container = parts
            else:
                host, _container = parts
            if not host:
                continue
            low, _, high = host.partition("-")
            ports = list(range(int(low), int(high or low) + 1))
        published.extend((host_ip, port, protocol) for port in ports)
    return published


def validate_compose(doc: dict) -> list[str]:
    """Problems Compose would reject (or trip over at `up`), as readable sentences."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return ["the compose file is not a mapping"]
    for key in doc:
        if key not in TOP_LEVEL_KEYS and not str(key).startswith("x-"):
            problems.append(f"unknown top-level key {key!r}")
    services = doc.get("services") or {}
    if not services:
        problems.append("no services")
    declared_volumes = set((doc.get("volumes") or {}).keys())
    used_volumes: set[str] = set()
    bound: dict[tuple[str, int, str], str] = {}

    for name, service in services.items():
        where = f"service {name!r}"
        if not NAME.match(name):
            problems.append(f"{where}: invalid service name")
        if not isinstance(service, dict):
            problems.append(f"{where}: not a mapping")
            continue
        for key in service:
            if key not in SERVICE_KEYS and not str(key).startswith("x-"):
                problems.append(f"{where}: unknown key {key!r}")
        if "image" not in service and "build" not in service:
            problems.append(f"{where}: needs `image` or `build`")
        build = service.get("build")
        if isinstance(build, dict):
            problems += [f"{where}: unknown build key {k!r}" for k in build if k not in BUILD_KEYS]
        restart = service.get("restart")
        if restart is not None and str(restart).split(":")[0] not in RESTART_POLICIES:
            problems.append(f"{where}: invalid restart policy {restart!r}")

        env = service.get("environment") or {}
        if isinstance(env, dict):
            for key, value in env.items():
                if not isinstance(value, (str, int, float, bool)) and value is not None:
                    problems.append(f"{where}: environment {key} is not a scalar")

        health = service.get("healthcheck")
        if health is not None:
            problems += [
                f"{where}: unknown healthcheck key {k!r}" for k in health if k not in HEALTHCHECK_KEYS
            ]
            test = health.get("test")
            if isinstance(test, list) and (not test or test[0] not in ("CMD", "CMD-SHELL", "NONE")):
                problems.append(f"{where}: healthcheck test must start with CMD, CMD-SHELL or NONE")
            if test is None and not health.get("disable"):
                problems.append(f"{where}: healthcheck without a test")
            for key in ("interval", "timeout", "start_period", "start_interval"):
                if key in health and not DURATION.match(str(health[key])):
                    problems.append(f"{where}: healthcheck {key} {health[key]!r} is not a duration")

        for dep, spec in depends_on(service).items():
            if dep not in services:
                problems.append(f"{where}: depends_on unknown service {dep!r}")
                continue
            if dep == name:
                problems.append(f"{where}: depends on itself")
            spec = spec or {}
            problems += [
                f"{where}: unknown depends_on key {k!r} for {dep!r}"
                for k in spec
                if k not in DEPENDS_ON_KEYS and not str(k).startswith("x-")
            ]
            condition = spec.get("condition")
            if condition not in CONDITIONS:
                problems.append(f"{where}: invalid condition {condition!r} for {dep!r}")
            target = services[dep] or {}
            target_health = target.get("healthcheck")
            if condition == "service_healthy" and (not target_health or target_health.get("disable")):
                problems.append(f"{where}: waits for {dep!r} to be healthy, but it has no healthcheck")
            if condition == "service_completed_successfully" and target.get("restart") in (
                "always",
                "unless-stopped",
            ):
                problems.append(f"{where}: waits for {dep!r} to complete, but it restarts forever")

        for entry in service.get("volumes") or []:
            if isinstance(entry, dict):
                problems += [
                    f"{where}: unknown volume key {k!r}" for k in entry if k not in VOLUME_MOUNT_KEYS
                ]
        for mount in mounts(service):
            if not str(mount.get("target", "")).startswith("/"):
                problems.append(f"{where}: mount target {mount.get('target')!r} is not absolute")
            if mount.get("type") == "volume" and mount.get("source"):
                used_volumes.add(mount["source"])

        for binding in published_ports(service):
            host_ip, port, protocol = binding
            for (other_ip, other_port, other_protocol), other in bound.items():
                wildcard = "0.0.0.0" in (host_ip, other_ip) or "::" in (host_ip, other_ip)
                if (port, protocol) == (other_port, other_protocol) and (wildcard or host_ip == other_ip):
                    problems.append(f"{where}: host port {port}/{protocol} already used by {other!r}")
            bound[binding] = name

    for volume in sorted(used_volumes - declared_volumes):
        problems.append(f"named volume {volume!r} is used but not declared under `volumes:`")

    # depends_on must be acyclic, or Compose cannot order the start-up.
    graph = {name: set(depends_on(svc or {})) & set(services) for name, svc in services.items()}
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            problems.append("depends_on cycle: " + " -> ".join([*path, node]))
            return
        visiting.add(node)
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        visiting.discard(node)
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return problems


def documented_variables(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    documented = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            documented[key.strip()] = value.strip()
    return documented


def salesops_image_services(doc: dict) -> list[str]:
    """Services that run the salesops image (Airflow components and MLflow)."""
    return [
        name
        for name, svc in doc["services"].items()
        if isinstance(svc.get("build"), dict) and svc["build"].get("dockerfile") == "docker/Dockerfile"
    ]


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


# --- the file as a whole ---------------------------------------------------------------------


def test_compose_file_passes_validation(compose):
    assert validate_compose(compose) == []


def test_required_services_exist(services):
    missing = set(REQUIRED_SERVICES) - set(services)
    assert not missing, f"missing services: {sorted(missing)}"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["services"]["mlflow"]["depends_on"].update(
                {"ghost": {"condition": "service_started"}}
            ),
            "depends_on unknown service 'ghost'",
        ),
        (
            lambda d: d["services"]["mlflow"]["depends_on"]["warehouse"].update(condition="service_ready"),
            "invalid condition 'service_ready'",
        ),
        (
            lambda d: d["services"]["warehouse"].pop("healthcheck"),
            "waits for 'warehouse' to be healthy, but it has no healthcheck",
        ),
        (
            lambda d: d["services"]["airflow-init"].update(restart="always"),
            "waits for 'airflow-init' to complete, but it restarts forever",
        ),
        (
            lambda d: d["volumes"].pop("mlflow-artifacts"),
            "named volume 'mlflow-artifacts' is used but not declared",
        ),
        (
            lambda d: d["services"]["mlflow"].update(ports=["127.0.0.1:8080:5000"]),
            "host port 8080/tcp already used",
        ),
        (
            lambda d: d["services"]["warehouse"].update(depend_on=["airflow-metadata"]),
            "unknown key 'depend_on'",
        ),
        (
            lambda d: d["services"]["airflow-metadata"].update(
                depends_on={"airflow-init": {"condition": "service_completed_successfully"}}
            ),
            "depends_on cycle",
        ),
    ],
)
def test_validation_catches_broken_files(mutate, expected):
    broken = load_compose()  # a fresh copy: anchors are shared objects inside one parse
    mutate(broken)
    problems = validate_compose(broken)
    assert any(expected in problem for problem in problems), problems


def test_interpolation_helpers():
    assert interpolations("a ${X:-1} $$HOME $${Y} $Z ${W}") == [
        ("X", ":-", "1"),
        ("Z", None, None),
        ("W", None, None),
    ]
    assert interpolate("${X:-d}|${X-d}|$${H}|${Y:-}", {"X": ""}) == "d||${H}|"
    with pytest.raises(ValueError):
        interpolate("${X:?needed}")


# --- databases -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATABASES)
def test_databases_are_pinned_postgres_with_pg_isready_and_a_named_volume(services, name):
    db = services[name]
    image = db["image"]
    assert re.fullmatch(r"postgres:\d+(\.\d+)?(-[a-z0-9]+)?", image), f"{name}: pin a major: {image}"
    test = " ".join(db["healthcheck"]["test"])
    assert "pg_isready" in test
    env = environment(db)
    assert f"-d {env['POSTGRES_DB']}" in test and f"-U {env['POSTGRES_USER']}" in test
    data = [m for m in mounts(db) if m["target"] == "/var/lib/postgresql/data"]
    assert data and data[0]["type"] == "volume", f"{name}: data must live in a named volume"


def test_warehouse_is_the_salesops_database(services):
    env = environment(services["warehouse"])
    assert env["POSTGRES_DB"] == "salesops"
    assert env["POSTGRES_USER"] == "salesops"


def test_warehouse_init_scripts_create_the_mlflow_database(services):
    init = [m for m in mounts(services["warehouse"]) if m["target"] == "/docker-entrypoint-initdb.d"]
    assert init and init[0]["type"] == "bind" and init[0]["read_only"]
    assert (REPO / init[0]["source"]).resolve() == INITDB
    scripts = sorted(p for p in INITDB.iterdir() if p.suffix in (".sh", ".sql"))
    assert scripts, "docker/initdb has no init script"
    text = "\n".join(p.read_text() for p in scripts).lower()
    assert "create database mlflow" in text
    # The script reads its password from the warehouse container's environment.
    for var in set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", text.upper())) - {"POSTGRES_USER", "POSTGRES_DB"}:
        assert var in environment(services["warehouse"]), f"init script reads {var}, not passed"


# --- Airflow ---------------------------------------------------------------------------------


def test_airflow_services_share_one_image_and_build(services):
    images = {services[name].get("image") for name in AIRFLOW_SERVICES}
    builds = {yaml.safe_dump(services[name].get("build")) for name in AIRFLOW_SERVICES}
    assert len(images) == 1 and None not in images, images
    assert len(builds) == 1, builds
    build = services[AIRFLOW_INIT]["build"]
    assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_airflow_services_share_the_same_environment(services):
    reference = environment(services["airflow-apiserver"])
    for name in AIRFLOW_RUNNING:
        assert environment(services[name]) == reference, f"{name} environment differs"
    init_env = environment(services[AIRFLOW_INIT])
    for key, value in reference.items():
        assert init_env.get(key) == value, f"airflow-init: {key} differs"
    for key in AIRFLOW_SHARED:
        assert key in reference, f"{key} missing from the Airflow environment"


def test_airflow_3_settings(services):
    env = resolved_environment(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/salesops/dags"
    assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 64, "HS512 wants a 64+ byte JWT secret"
    raw = environment(services["airflow-scheduler"])
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        names = [name for name, _, _ in interpolations(raw[key])]
        assert names, f"{key} must come from the environment (.env), with a local default"


def test_airflow_metadata_connection_matches_its_database(services):
    env = resolved_environment(services["airflow-scheduler"])
    url = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    db = resolved_environment(services["airflow-metadata"])
    assert url.scheme.startswith("postgresql")
    assert (url.hostname, url.port or 5432) == ("airflow-metadata", 5432)
    assert (url.username, url.password) == (db["POSTGRES_USER"], db["POSTGRES_PASSWORD"])
    assert url.path.lstrip("/") == db["POSTGRES_DB"]
    # Airflow 3 also opens an async engine; left unset it would need asyncpg (not installed).
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert url.scheme == "postgresql+psycopg", "psycopg 3 serves both the sync and async engine"
    assert importlib.util.find_spec("psycopg") is not None


def test_airflow_options_exist_in_installed_airflow(services):
    """Every AIRFLOW__SECTION__KEY names a real option of the installed Airflow (3.x renamed many)."""
    spec = importlib.util.find_spec("airflow")
    config = yaml.safe_load((Path(spec.origin).parent / "config_templates" / "config.yml").read_text())
    cosmos = importlib.util.find_spec("cosmos")
    cosmos_settings = (Path(cosmos.origin).parent / "settings.py").read_text()
    # Not an Airflow 3 option any more (usage data collection is gone): kept as a harmless
    # belt-and-braces switch because salesops.config.OFFLINE_ENV sets it too.
    tolerated = {"AIRFLOW__USAGE_DATA_COLLECTION__ENABLED"}
    keys = {k for name in AIRFLOW_SERVICES for k in environment(services[name])}
    for key in sorted(k for k in keys if k.startswith("AIRFLOW__") and k not in tolerated):
        _, section, option = key.split("__", 2)
        section, option = section.lower(), option.lower()
        if section == "cosmos":
            assert f'"cosmos", "{option}"' in cosmos_settings, key
            continue
        assert option in (config.get(section) or {}).get("options", {}), f"{key}: no such option"


def test_airflow_init_migrates_once_then_exits(services):
    init = services[AIRFLOW_INIT]
    script = " ".join(command_list(init, "entrypoint") + command_list(init))
    assert "airflow db migrate" in script
    assert "set -e" in script, "a failing step must fail the container"
    assert str(init.get("restart", "no")) == "no"
    assert not init.get("ports")
    assert depends_on(init)["airflow-metadata"]["condition"] == "service_healthy"


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("airflow-apiserver", "api-server"),
        ("airflow-scheduler", "scheduler"),
        ("airflow-dag-processor", "dag-processor"),
        ("airflow-triggerer", "triggerer"),
    ],
)
def test_airflow_component_commands_and_start_order(services, name, command):
    service = services[name]
    assert command_list(service) in ([command], ["airflow", command])
    deps = depends_on(service)
    assert deps[AIRFLOW_INIT]["condition"] == "service_completed_successfully"
    for db in DATABASES:
        assert deps[db]["condition"] == "service_healthy", f"{name} must wait for {db}"
    assert service.get("healthcheck"), f"{name} needs a healthcheck"


def test_apiserver_port_and_health_endpoint(services):
    api = services["airflow-apiserver"]
    assert any(str(port).endswith(":8080") for port in api["ports"]), "publish container port 8080"
    assert [port for _, port, _ in published_ports(api)] == [8080]
    test = " ".join(api["healthcheck"]["test"])
    assert "/api/v2/monitor/health" in test and ":8080" in test


# --- salesops contract -----------------------------------------------------------------------


def _salesops_vars_read_by_code() -> set[str]:
    names = set()
    for folder in ("salesops", "ingestion", "dags", "ml"):
        for path in (REPO / folder).rglob("*.py") if (REPO / folder).is_dir() else []:
            names |= set(re.findall(r"[\"'](SALESOPS_[A-Z0-9_]+)[\"']", path.read_text()))
    return names


def test_salesops_variables_match_what_the_code_reads(compose, services):
    read_by_code = _salesops_vars_read_by_code()
    assert read_by_code >= SALESOPS_VARS, f"the code no longer reads {SALESOPS_VARS - read_by_code}"
    for name in AIRFLOW_SERVICES:
        set_here = {k for k in environment(services[name]) if k.startswith("SALESOPS_")}
        assert set_here >= SALESOPS_VARS, f"{name} lacks {SALESOPS_VARS - set_here}"
        assert set_here <= read_by_code, f"{name} sets variables no code reads: {set_here - read_by_code}"


def test_salesops_locations(services):
    env = resolved_environment(services["airflow-scheduler"])
    url = urlsplit(env["SALESOPS_WAREHOUSE_URL"])
    warehouse = resolved_environment(services["warehouse"])
    assert url.scheme == "postgresql", "libpq URL (no SQLAlchemy driver suffix)"
    assert (url.hostname, url.port) == ("warehouse", 5432)
    assert (url.username, url.password) == ("salesops", warehouse["POSTGRES_PASSWORD"])
    assert url.path == "/salesops"
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    targets = {m["target"]: m for m in mounts(services["airflow-scheduler"])}
    assert env["SALESOPS_HOME"] in targets and targets[env["SALESOPS_HOME"]]["type"] == "volume"
    assert env["SALESOPS_LANDING_URI"] in targets, "the landing zone must be a mounted folder"
    assert not targets[env["SALESOPS_LANDING_URI"]].get("read_only")


@pytest.mark.parametrize("key", sorted(TELEMETRY_OFF))
def test_telemetry_off_in_every_salesops_container(compose, key):
    names = salesops_image_services(compose)
    assert set(AIRFLOW_SERVICES) | {"mlflow"} <= set(names)
    for name in names:
        value = environment(compose["services"][name]).get(key)
        assert value is not None and value.lower() == TELEMETRY_OFF[key], f"{name}: {key}={value!r}"


def test_telemetry_covers_the_codes_offline_env(compose):
    """Whatever salesops.config.OFFLINE_ENV switches off is switched off in the stack too."""
    tree = ast.parse((REPO / "salesops" / "config.py").read_text())
    offline = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "OFFLINE_ENV" for t in node.targets)
    )
    for name in salesops_image_services(compose):
        env = environment(compose["services"][name])
        for key, value in offline.items():
            assert (env.get(key) or "").lower() == value.lower(), f"{name}: {key}"


def test_dags_and_dbt_are_mounted_read_only_from_the_repo(services):
    for name in AIRFLOW_SERVICES:
        by_source = {m["source"]: m for m in mounts(services[name]) if m["type"] == "bind"}
        assert by_source["./dags"] == {
            "type": "bind",
            "source": "./dags",
            "target": "/opt/salesops/dags",
            "read_only": True,
        }
        assert by_source["./dbt"] == {
            "type": "bind",
            "source": "./dbt",
            "target": "/opt/salesops/dbt",
            "read_only": True,
        }
    # dags/ and dbt/ are created by the lead engineer; once there they must be what is mounted.
    for folder in ("dags", "dbt"):
        if (REPO / folder).exists():
            assert (REPO / folder).is_dir(), f"{folder} must be a directory"
    if (REPO / "dbt").is_dir() and any((REPO / "dbt").iterdir()):
        assert (REPO / "dbt" / "dbt_project.yml").is_file(), "dbt/ is mounted as the dbt project"


def test_bind_mounts_stay_inside_the_repo_and_landing_is_git_ignored(services):
    ignored = {
        line.strip().strip("/")
        for line in (REPO / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for name, service in services.items():
        for mount in mounts(service):
            if mount["type"] != "bind":
                continue
            source = Path(mount["source"])
            assert not source.is_absolute(), f"{name}: {source} is host-specific"
            assert (REPO / source).resolve().is_relative_to(REPO), f"{name}: {source} escapes the repo"
            if mount["target"] == "/opt/salesops/landing":
                assert source.parts[0] in ignored, f"landing data {source} must be git-ignored"


# --- MLflow ----------------------------------------------------------------------------------


def _option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_mlflow_server_command(services):
    mlflow = services["mlflow"]
    argv = [interpolate(a) for a in command_list(mlflow, "entrypoint") + command_list(mlflow)]
    assert argv[argv.index("mlflow") + 1] == "server"
    backend = urlsplit(_option(argv, "--backend-store-uri"))
    warehouse = resolved_environment(services["warehouse"])
    assert backend.scheme == "postgresql+psycopg"
    assert (backend.hostname, backend.port, backend.path) == ("warehouse", 5432, "/mlflow")
    assert (backend.username, backend.password) == ("mlflow", warehouse["MLFLOW_DB_PASSWORD"])
    assert (_option(argv, "--host"), _option(argv, "--port")) == ("0.0.0.0", "5000")
    artifacts = {m["target"]: m for m in mounts(mlflow)}[_option(argv, "--artifacts-destination")]
    assert artifacts["type"] == "volume"
    assert depends_on(mlflow)["warehouse"]["condition"] == "service_healthy"
    assert "/health" in " ".join(mlflow["healthcheck"]["test"])


def test_mlflow_asks_for_a_sign_in_that_airflow_has(services):
    """The runs hold payout statements: MLflow's basic-auth app, whose admin Airflow signs in as."""
    import configparser

    mlflow = services["mlflow"]
    argv = command_list(mlflow)
    assert _option(argv, "--app-name") == "basic-auth"
    env = resolved_environment(mlflow)
    config_file = PurePosixPath(env["MLFLOW_AUTH_CONFIG_PATH"])
    # The image holds the repository at /opt/salesops (docker/Dockerfile: COPY . /opt/salesops/).
    config = configparser.ConfigParser()
    assert config.read(REPO / config_file.relative_to("/opt/salesops"))
    assert config["mlflow"]["default_permission"] == "NO_PERMISSIONS"
    auth_db = PurePosixPath(urlsplit(config["mlflow"]["database_uri"]).path[1:])
    volumes = {m["target"]: m for m in mounts(mlflow) if m["type"] == "volume"}
    assert str(auth_db.parent) in volumes, "the users must outlive the container"
    assert str(auth_db.parent) in (REPO / "docker" / "Dockerfile").read_text()  # created for the airflow user
    assert env["MLFLOW_FLASK_SERVER_SECRET_KEY"]
    assert len(env["MLFLOW_AUTH_ADMIN_PASSWORD"]) >= 12  # MLflow refuses to start with a shorter one
    for name in ("airflow-scheduler", "airflow-apiserver"):
        client = resolved_environment(services[name])
        assert (client["MLFLOW_TRACKING_USERNAME"], client["MLFLOW_TRACKING_PASSWORD"]) == (
            env["MLFLOW_AUTH_ADMIN_USERNAME"], env["MLFLOW_AUTH_ADMIN_PASSWORD"])


def test_mlflow_accepts_the_host_header_airflow_sends(services):
    """MLflow 3 rejects unknown Host headers; use the installed MLflow's own matching rule."""
    source = Path(importlib.util.find_spec("mlflow").origin).parent / "server" / "security_utils.py"
    tree = ast.parse(source.read_text())
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "is_allowed_host_header")
    namespace = {"fnmatch": fnmatch}
    exec(compile(ast.Module(body=[func], type_ignores=[]), str(source), "exec"), namespace)  # noqa: S102
    argv = command_list(services["mlflow"])
    allowed = [h.strip() for h in _option(argv, "--allowed-hosts").split(",")]
    tracking = urlsplit(resolved_environment(services["airflow-scheduler"])["MLFLOW_TRACKING_URI"])
    for host in (tracking.netloc, "localhost:5000", "127.0.0.1:5000"):
        assert namespace["is_allowed_host_header"](allowed, host), f"MLflow would reject Host: {host}"


# --- interpolation, volumes, ports -----------------------------------------------------------


def test_interpolated_variables_have_defaults_or_are_documented(compose):
    documented = documented_variables()
    used: dict[str, set[str | None]] = {}
    for text in strings_in(compose):
        for name, op, arg in interpolations(text):
            used.setdefault(name, set()).add(arg if op in (":-", "-") else None)
    undocumented = {n for n, defaults in used.items() if None in defaults and n not in documented}
    assert not undocumented, f"no default and not in .env.example: {sorted(undocumented)}"
    inconsistent = {n: d for n, d in used.items() if len(d - {None}) > 1}
    assert not inconsistent, f"one variable, several defaults: {inconsistent}"
    stale = set(documented) - set(used)
    assert not stale, f".env.example documents variables docker-compose.yml never uses: {sorted(stale)}"


def test_env_example_holds_no_real_secrets():
    for key, value in documented_variables().items():
        if any(word in key for word in ("PASSWORD", "SECRET", "FERNET")):
            assert value == "" or "change-me" in value, f"{key} in .env.example looks like a real secret"


def test_every_declared_volume_is_used(compose):
    used = {
        m["source"]
        for service in compose["services"].values()
        for m in mounts(service)
        if m["type"] == "volume"
    }
    assert set(compose["volumes"]) <= used, f"unused volumes: {set(compose['volumes']) - used}"


def test_published_ports_are_local_and_distinct(services):
    seen = {}
    for name, service in services.items():
        for host_ip, port, protocol in published_ports(service):
            assert host_ip == "127.0.0.1", f"{name}: publish on 127.0.0.1, not {host_ip}"
            assert (port, protocol) not in seen, f"{name} and {seen[(port, protocol)]} share {port}"
            seen[(port, protocol)] = name
    assert {port for port, _ in seen} == {5432, 8080, 5000}


def test_service_images_are_pinned(services):
    for name, service in services.items():
        image = service.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag ({image!r})"


# --- the image -------------------------------------------------------------------------------


def test_dockerfile_pins_the_airflow_base_image():
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert froms, "docker/Dockerfile has no FROM"
    image, _, tag = froms[0].partition(":")
    assert image == "apache/airflow" and tag and tag != "latest", froms[0]
    airflow_version, _, python = tag.partition("-")
    assert python == "python3.11"
    assert airflow_version == importlib.metadata.version("apache-airflow"), (
        "the image's Airflow must be the version the project is developed and tested against"
    )


def test_dockerfile_installs_the_repo_with_its_constraints():
    text = DOCKERFILE.read_text()
    assert re.search(r"^COPY\s.*\.\s+/opt/salesops/?\s*$", text, flags=re.MULTILINE)
    install = " ".join(re.findall(r"^RUN\s+(pip install .*)$", text, flags=re.MULTILINE))
    assert "--no-cache-dir" in install and "-c constraints.txt" in install and install.rstrip().endswith(" .")
    assert re.search(r"SALESOPS_HOME=/opt/salesops/home\b", text)
    # The build context must keep what the install needs and drop the heavy/local state.
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".env", ".salesops"} <= ignored
    for needed in ("pyproject.toml", "constraints.txt", "salesops", "dags", "dbt"):
        assert not any(fnmatch.fnmatch(needed, pattern) for pattern in ignored), needed
