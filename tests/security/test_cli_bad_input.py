"""Every `salesops` command fed bad arguments and bad environments: one clear line, non-zero exit.

The command tree is walked, so a new command gets the generic probes (unknown option,
extra or missing argument, a word where a number goes, a folder where a file goes and
the reverse) without anyone listing it, and must be given its own probes in ``PROBES``
(the test fails otherwise). Each probe fails fast: nothing reaches a live warehouse (the
default environment points SALESOPS_WAREHOUSE_URL at a closed port) and nothing heavy
starts. A few probes run the installed ``salesops`` script in a subprocess to prove the
real entry point (and ``--debug``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from salesops.cli import main

REPO = Path(__file__).resolve().parents[2]
ORDERS = "order_id,order_date,amount,currency\nO1,2017-03-01,10,USD\n"


def _walk(command: click.Command, path: tuple[str, ...] = ()) -> dict[str, click.Command]:
    if isinstance(command, click.Group):
        found = {" ".join(path): command} if path else {}
        for name, sub in command.commands.items():
            found.update(_walk(sub, (*path, name)))
        return found
    return {" ".join(path): command}


TREE = _walk(main)
GROUPS = sorted(name for name, cmd in TREE.items() if isinstance(cmd, click.Group))
COMMANDS = sorted(name for name, cmd in TREE.items() if not isinstance(cmd, click.Group))


@dataclass(frozen=True)
class Probe:
    args: tuple[str, ...]  # after the command's name; {placeholders} come from the `places` fixture
    expect: str  # what the one error line must say
    env: dict[str, str | None] = field(default_factory=dict)
    code: int | None = None  # the exact exit code, where it is part of the contract

    def __str__(self) -> str:
        return " ".join(self.args) + "".join(f" [{k}={v}]" for k, v in self.env.items())


# Environments that are wrong in themselves. NO_URL: the embedded warehouse (so SALESOPS_HOME counts).
NO_URL = {"SALESOPS_WAREHOUSE_URL": None}
HOME_FILE = {**NO_URL, "SALESOPS_HOME": "{plain}"}
HOME_BELOW_FILE = {**NO_URL, "SALESOPS_HOME": "{plain}/home"}
S3 = {"SALESOPS_LANDING_URI": "s3://bucket/landing"}
IS_A_FILE = "is a file, not a folder"
CANNOT_CONNECT = "cannot connect to SALESOPS_WAREHOUSE_URL"  # the default env: a closed port

PROBES: dict[str, list[Probe]] = {
    "warehouse start": [
        Probe((), IS_A_FILE, HOME_FILE, 1),
        Probe((), "a part of the path is a file", HOME_BELOW_FILE),
        Probe((), CANNOT_CONNECT),
    ],
    "warehouse url": [
        Probe((), IS_A_FILE, HOME_FILE),
        Probe((), CANNOT_CONNECT),
        Probe(("--role", "postgres"), "Invalid value for '--role'", code=2),
        Probe((), "the warehouse URL is not valid", {"SALESOPS_WAREHOUSE_URL": "garbage"}),
        Probe((), 'URI: "postgresql://u:***@[::1"', {"SALESOPS_WAREHOUSE_URL": "postgresql://u:s3cret@[::1"}),
    ],
    "access list": [
        Probe((), IS_A_FILE, HOME_FILE),
        Probe((), CANNOT_CONNECT),
    ],
    "access rotate": [
        Probe(("postgres",), "'postgres' is not one of", code=2),
        Probe(("bi_reader",), CANNOT_CONNECT),
    ],
    "access revoke": [
        Probe(("salesops_loader",), "'salesops_loader' is not one of", code=2),
        Probe(("finance_reader",), IS_A_FILE, HOME_FILE),
    ],
    "warehouse stop": [],  # no input; "not ours to stop" / "was not running" are not errors
    "warehouse status": [],  # exit 3 when unreachable: see test_status_of_an_unreachable_warehouse
    "channels": [],  # no input: see test_commands_that_need_no_home_ignore_a_bad_one
    "ingest": [
        Probe(("fax", "{folder}"), "unknown channel 'fax'", code=2),
        Probe(("orders", "{missing}"), "no such file or folder"),
        Probe(("orders", "{folder}"), "no data files"),
        Probe(("orders", "{csv}", "--set", "novalue"), "write COLUMN=VALUE", code=2),
        Probe(("orders", "{csv}", "--set", "nosuch=1"), "has no column 'nosuch'"),
        Probe(("orders", "{csv}", "--currency", "dollars"), "give an ISO 4217 code"),
        Probe(("orders", "{csv}", "--country", "australia"), "give an ISO 3166 code"),
        Probe(("orders", "{csv}", "--encoding", "klingon"), "not an encoding Python knows"),
        Probe(("crm_export", "{csv}", "--preset", "nosuch"), "has no preset 'nosuch'"),
        Probe(("crm_export", "{csv}", "--preset-file", "{missing}"), "no such preset file"),
        Probe(("crm_export", "{csv}", "--preset-file", "{csv}"), "a preset needs 'preset', 'channel'"),
        Probe(("orders", "s3://bucket/landing/orders"), "pip install s3fs"),
        Probe(("orders", "{csv}"), IS_A_FILE, HOME_FILE),
        Probe(("orders", "{csv}"), CANNOT_CONNECT),
        Probe(("orders", "{escape}"), "\\x1b[31m"),  # a control character in a path is shown escaped
    ],
    "inspect": [
        Probe(("{missing}",), "no such file or folder"),
        Probe(("{csv}", "--channel", "fax"), "unknown channel 'fax'"),
        Probe(("{csv}", "--rejects", "-1"), "not in the range x>=0", code=2),
        Probe(("{csv}", "--encoding", "klingon"), "not an encoding Python knows"),
        Probe(("{csv}", "--preset-file", "{folder}"), "is a directory", code=2),
    ],
    "demo-data": [
        Probe(("--scale", "0"), "not in the range x>0", code=2),
        Probe(("--landing", "{csv}"), "is a file", code=2),
        Probe(("--maven", "{missing}"), "does not exist", code=2),
        Probe(("--landing", "{plain}/landing", "--scale", "0.001"), IS_A_FILE, code=1),
        Probe(("--scale", "0.001"), "demo-data writes to a local folder", S3),
        Probe(("--scale", "0.001"), IS_A_FILE, HOME_FILE),
    ],
    "mlflow ui": [
        Probe(("--port", "0"), "not in the range 1<=x<=65535", code=2),
        Probe((), IS_A_FILE, HOME_FILE),
        Probe((), "no MLflow runs in", {**NO_URL, "SALESOPS_HOME": "{home}", "MLFLOW_TRACKING_URI": None}, 1),
    ],
    "run": [
        Probe(("--scale", "-1"), "not in the range x>0", code=2),
        Probe((), IS_A_FILE, HOME_FILE),
        Probe((), "Install s3fs to access S3: `pip install s3fs`", S3),
        Probe((), CANNOT_CONNECT),
    ],
    "stages load": [
        Probe(("{folder}",), "is a directory", code=2),
        Probe(("{missing}",), "no such file"),
        Probe(("{csv}",), "missing column(s) raw_stage, stage_semantics"),
        Probe(("{binary}",), "not UTF-8 text"),
        Probe(("{stage_map}",), CANNOT_CONNECT),
        Probe(("{stage_map}",), IS_A_FILE, HOME_FILE),
    ],
    "rates load": [
        Probe(("{folder}",), "is a directory", code=2),
        Probe(("{missing}",), "no such file"),
        Probe(("{bad_rates}",), "is not a three-letter ISO 4217 code"),
        Probe(("{rates}",), CANNOT_CONNECT),
    ],
    "build": [
        Probe(("--select",), "requires an argument", code=2),
        Probe((), IS_A_FILE, HOME_FILE),
        Probe((), CANNOT_CONNECT),
    ],
    "docs": [
        Probe(("--port", "0"), "not in the range 1<=x<=65535", code=2),
        Probe((), IS_A_FILE, HOME_FILE),
        Probe((), CANNOT_CONNECT),
    ],
    "export": [
        Probe(("marts.fct_opportunities",), "Missing option '--output'", code=2),
        Probe(("marts.fct_opportunities", "-o", "{tmp}/x.ods"), "must end in .csv or .xlsx", code=2),
        Probe(("marts.fct_opportunities", "-o", "{missing}/x.csv"), "no such folder", code=2),
        Probe(("marts.fct_opportunities", "-o", "{tmp}/x.csv"), CANNOT_CONNECT),
        Probe(("marts.fct_opportunities", "-o", "{tmp}/x.csv"), IS_A_FILE, HOME_FILE),
    ],
    "forecast predict": [
        Probe(("--horizon", "3", "-o", "{tmp}/f.csv"), "Missing option '--input'", code=2),
        Probe(("--input", "{missing}", "--horizon", "3", "-o", "{tmp}/f.csv"), "no such file"),
        Probe(("--input", "{csv}", "--horizon", "3", "-o", "{tmp}/f.csv"), "missing column(s) series_id"),
        Probe(("--input", "{binary}", "--horizon", "3", "-o", "{tmp}/f.csv"), "not UTF-8 text"),
        Probe(("--input", "{series}", "--horizon", "0", "-o", "{tmp}/f.csv"), "not in the range 1<=x<=60",
              code=2),
        Probe(("--input", "{series}", "--horizon", "3", "-o", "{missing}/f.csv"), "does not exist"),
    ],
    "forecast backtest": [
        Probe(("--input", "{series}", "--horizon", "3", "--cutoffs", "0", "-o", "{tmp}/b.csv"),
              "not in the range 1<=x<=24", code=2),
        Probe(("--input", "{series}", "--horizon", "3", "-o", "{tmp}/b.csv"),
              "the longest series has 3 months"),
        Probe(("--input", "{csv}", "--horizon", "3", "-o", "{tmp}/b.csv"), "missing column(s) series_id"),
    ],
    "forecast train": [
        Probe(("--horizon", "0"), "not in the range 1<=x<=24", code=2),
        Probe(("--cutoffs", "13"), "not in the range 1<=x<=12", code=2),
        Probe((), CANNOT_CONNECT),
        Probe((), IS_A_FILE, HOME_FILE),
    ],
    "forecast score": [
        Probe(("--horizon", "25"), "not in the range 1<=x<=24", code=2),
        Probe((), CANNOT_CONNECT),
    ],
    "benchmark forecast": [
        Probe(("--input", "{missing}"), "does not exist", code=2),
        Probe(("--input", "{csv}", "--no-warehouse"), "missing column(s) series_id"),
        Probe(("--input", "{series}", "--no-warehouse"), "Error: no series is longer than 6 months"),
        Probe(("--input", "{series}"), CANNOT_CONNECT),
    ],
    "quotas load": [
        Probe(("{folder}",), "is a directory", code=2),
        Probe(("{missing}",), "no such file"),
        Probe(("{csv}",), "missing column(s) level, key, period, target"),
        Probe(("{targets}",), CANNOT_CONNECT),
        Probe(("{targets}", "--method", "guess"), "'guess' is not one of", code=2),
    ],
    "forecast adjust": [
        Probe(("--level", "team", "--key", "X", "--month", "2018-01", "--amount", "5"),
              "Missing option '--reason'", code=2),
        Probe(("--level", "galaxy", "--key", "X", "--month", "2018-01", "--amount", "5", "--reason", "r"),
              "'galaxy' is not one of", code=2),
        Probe(("--level", "team", "--key", "X", "--month", "2018-01", "--amount", "5", "--reason", "r"),
              CANNOT_CONNECT),
    ],
    "forecast category": [
        Probe(("OPP1", "certain", "--reason", "r"), "'certain' is not one of", code=2),
        Probe(("OPP1", "commit", "--reason", "r"), CANNOT_CONNECT),
    ],
    "payouts run": [
        Probe(("--period", "June"), "'June' is not a month (2017-06)", code=2),
        Probe(("--period", "2017-06", "--plans", "{missing}"), "no such folder of plans"),
        Probe(("--period", "2017-06", "--plans", "{folder}"), "no plan files (*.yaml)"),
        Probe(("--period", "2017-06", "--plans", "{bad_plans}"),
              "p.yaml, line 1: (top level): 'version' is missing"),
        Probe(("--period", "2017-06"), CANNOT_CONNECT),
    ],
    "payouts lock": [
        Probe(("--period", "2017-13"), "'2017-13' is not a month", code=2),
        Probe(("--period", "2017-06"), CANNOT_CONNECT),
    ],
    "payouts adjust": [
        Probe(("--rep", "A", "--period", "2017-06", "--amount", "5", "--reason", "r"),
              "Missing option '--approved-by'", code=2),
        Probe(("--rep", "A", "--period", "2017-06", "--amount", "five", "--reason", "r",
               "--approved-by", "cfo"), "--amount 'five' is not a non-zero amount"),
        Probe(("--rep", "A", "--period", "2017-06", "--amount", "5", "--reason", "r", "--approved-by", "me",
               "--by", "me"), "--approved-by must name someone other than who enters it (me)"),
        Probe(("--rep", "A", "--period", "2017-06", "--amount", "5", "--reason", "r", "--approved-by", "cfo"),
              CANNOT_CONNECT),
    ],
    "payouts explain": [
        Probe(("--period", "2017-06"), "Missing option '--rep'", code=2),
        Probe(("--rep", "A", "--period", "2017-06"), CANNOT_CONNECT),
    ],
    "payouts statements": [
        Probe(("--period", "2017-06", "--format", "pdf"), "'pdf' is not one of", code=2),
        Probe(("--period", "2017-06"), CANNOT_CONNECT),
        Probe(("--period", "2017-06"), IS_A_FILE, HOME_FILE),
    ],
    "payouts replay": [
        Probe(("x",), "'x' is not a valid integer", code=2),
        Probe(("1",), CANNOT_CONNECT),
    ],
    "benchmark ingest": [
        Probe(("--rows", "0"), "not in the range x>=1", code=2),
        Probe(("--rounds", "0"), "not in the range x>=1", code=2),
        Probe((), CANNOT_CONNECT),
        Probe((), IS_A_FILE, HOME_FILE),
    ],
    "report": [
        Probe(("--month", "June"), "'June' is not a month (2017-06)", code=2),
        Probe(("--lang", "fr"), "'fr' is not one of", code=2),
        Probe(("--edition", "hr"), "'hr' is not one of", code=2),
        Probe(("--format", "docx"), "'docx' is not one of", code=2),
        Probe(("--month", "2017-06"), CANNOT_CONNECT),
        Probe((), IS_A_FILE, HOME_FILE),
    ],
    "benchmark report": [
        Probe(("--scale", "0"), "not in the range x>0", code=2),
        Probe((), CANNOT_CONNECT),
    ],
    "benchmark payouts": [
        Probe(("--rows", "0"), "not in the range x>=1", code=2),
        Probe(("--reps", "0"), "not in the range x>=1", code=2),
        Probe((), CANNOT_CONNECT),
    ],
    "benchmark run": [
        Probe(("--scale", "0"), "not in the range x>0", code=2),
        Probe((), IS_A_FILE, HOME_FILE),
    ],
    "benchmark transform": [
        Probe(("--scale", "0"), "not in the range x>0", code=2),
        Probe(("--delta-scale", "-1"), "not in the range x>0", code=2),
        Probe((), CANNOT_CONNECT),
    ],
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def places(tmp_path) -> dict[str, str]:
    """Paths the probes name, and a default environment that reaches no live warehouse."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "plainfile").write_text("not a folder\n")
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x01raw_stage")
    (tmp_path / "stage_map.csv").write_text("raw_stage,stage_semantics\nSigned,won\n")
    (tmp_path / "rates.csv").write_text("currency,month,usd_per_unit\nEUR,2017-03,1.07\n")
    (tmp_path / "bad_rates.csv").write_text("currency,month,usd_per_unit\neuro,2017-03,1.07\n")
    (tmp_path / "targets.csv").write_text("level,key,period,target\ncompany,all,2018-01,100\n")
    (tmp_path / "series.csv").write_text("series_id,period,value\n"
                                         "A,2017-01-01,1\nA,2017-02-01,2\nA,2017-03-01,3\n")
    (tmp_path / "bad_plans").mkdir()
    (tmp_path / "bad_plans" / "p.yaml").write_text("plan: p\ntitle: t\n")
    (tmp_path / "\x1b[31mred").mkdir()
    return {
        "tmp": str(tmp_path), "folder": str(tmp_path / "folder"), "plain": str(tmp_path / "plainfile"),
        "missing": str(tmp_path / "missing"), "csv": str(tmp_path / "orders.csv"),
        "binary": str(tmp_path / "binary.csv"), "stage_map": str(tmp_path / "stage_map.csv"),
        "rates": str(tmp_path / "rates.csv"), "bad_rates": str(tmp_path / "bad_rates.csv"),
        "series": str(tmp_path / "series.csv"), "targets": str(tmp_path / "targets.csv"),
        "bad_plans": str(tmp_path / "bad_plans"),
        "escape": str(tmp_path / "\x1b[31mred" / "missing.csv"),
        "home": str(tmp_path / "home"), "url": f"postgresql://salesops:x@127.0.0.1:{_closed_port()}/salesops",
    }


def _env(places: dict[str, str], extra: dict[str, str | None] | None = None) -> dict[str, str | None]:
    env = {"SALESOPS_HOME": places["home"], "SALESOPS_WAREHOUSE_URL": places["url"],
           "SALESOPS_LANDING_URI": None, "SALESOPS_DEBUG": None}
    for key, value in (extra or {}).items():
        env[key] = value.format(**places) if value is not None else None
    return env


def invoke(places, args, env=None):
    result = CliRunner().invoke(main, [a.format(**places) for a in args], env=_env(places, env))
    # An exception that escaped the command would be a traceback for a real user.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}\n{result.output}")
    return result


def assert_one_clear_error(output: str, exit_code: int, expect: str, code: int | None = None) -> None:
    assert exit_code != 0 and (code is None or exit_code == code), (exit_code, output)
    assert "Traceback" not in output and "\x1b" not in output and "s3cret" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert expect in errors[0], output
    assert output.rstrip("\n").splitlines()[-1] == errors[0], output  # the last thing said


# --- the tree and the probes -------------------------------------------------------------------

def test_every_command_has_its_own_probes():
    assert set(PROBES) == set(COMMANDS), "a command was added or renamed: give it PROBES"


@pytest.mark.parametrize(("command", "probe"), [(c, p) for c in COMMANDS for p in PROBES[c]],
                         ids=lambda x: str(x))
def test_bad_input_gets_one_clear_error(places, command, probe):
    result = invoke(places, [*command.split(), *probe.args], probe.env)
    assert_one_clear_error(result.output, result.exit_code, probe.expect, probe.code)


@pytest.mark.parametrize("command", [*COMMANDS, *GROUPS, ""])
def test_unknown_option(places, command):
    result = invoke(places, [*command.split(), "--no-such-option"])
    assert_one_clear_error(result.output, result.exit_code, "No such option '--no-such-option'", 2)


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_or_extra_arguments(places, command):
    arguments = [p for p in TREE[command].params if isinstance(p, click.Argument)]
    if arguments:
        result = invoke(places, command.split())
        assert_one_clear_error(result.output, result.exit_code, "Missing argument", 2)
    else:
        result = invoke(places, [*command.split(), "surplus"])
        required = [p.opts[0] for p in TREE[command].params if isinstance(p, click.Option) and p.required]
        expect = f"Missing option '{required[0]}'" if required else "unexpected extra argument (surplus)"
        assert_one_clear_error(result.output, result.exit_code, expect, 2)


@pytest.mark.parametrize("command", [*GROUPS, ""])
def test_unknown_subcommand(places, command):
    result = invoke(places, [*command.split(), "nosuch"])
    assert_one_clear_error(result.output, result.exit_code, "No such command 'nosuch'", 2)


def _typed_options():
    for command in COMMANDS:
        for param in TREE[command].params:
            if isinstance(param, click.Option) and not param.is_flag:
                yield command, param


@pytest.mark.parametrize(("command", "option"), list(_typed_options()), ids=lambda x: getattr(x, "name", x))
def test_every_option_refuses_a_wrong_kind_of_value(places, command, option):
    """Numbers refuse words; paths refuse the wrong kind of path (or a missing one, where it must exist)."""
    flag = option.opts[0]
    kind = option.type
    if kind.name in ("integer", "float", "integer range", "float range"):
        wrong, expect = "abc", "is not a valid"
    elif isinstance(kind, click.Path) and kind.exists:
        wrong, expect = "{missing}", "does not exist"
    elif isinstance(kind, click.Path) and not kind.dir_okay:
        wrong, expect = "{folder}", "is a directory"
    elif isinstance(kind, click.Path) and not kind.file_okay:
        wrong, expect = "{csv}", "is a file"
    else:  # free text: given nothing at all
        result = invoke(places, [*command.split(), *_arguments(command), flag])
        assert_one_clear_error(result.output, result.exit_code, f"Option '{flag}' requires an argument", 2)
        return
    result = invoke(places, [*command.split(), *_arguments(command), flag, wrong])
    assert_one_clear_error(result.output, result.exit_code, expect, 2)


def _arguments(command: str) -> list[str]:
    """Valid-looking arguments, so that the option is what gets refused."""
    return {"ingest": ["orders", "{csv}"], "inspect": ["{csv}"], "stages load": ["{stage_map}"],
            "rates load": ["{rates}"], "export": ["marts.x"]}.get(command, [])


@pytest.mark.parametrize("command", [*COMMANDS, *GROUPS])
def test_help_works_everywhere(places, command):
    result = invoke(places, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output


# --- environments --------------------------------------------------------------------------------

def test_commands_that_need_no_home_ignore_a_bad_one(places):
    channels = invoke(places, ["channels"], HOME_FILE)
    assert channels.exit_code == 0 and "orders:" in channels.output
    inspected = invoke(places, ["inspect", "{csv}", "--channel", "orders"], HOME_FILE)
    assert inspected.exit_code == 0 and "would load   1 loaded, 0 rejected" in inspected.output


def test_status_of_an_unreachable_warehouse(places):
    result = invoke(places, ["warehouse", "status"])
    assert result.exit_code == 3 and "external warehouse unreachable" in result.output
    assert "Traceback" not in result.output


def test_a_plain_file_where_the_landing_folder_goes(places):
    home = Path(places["home"])
    home.mkdir()
    (home / "landing").write_text("")
    result = invoke(places, ["demo-data", "--scale", "0.001"])
    assert_one_clear_error(result.output, result.exit_code, f"{home / 'landing'}: {IS_A_FILE}")
    assert "set SALESOPS_HOME to a folder you can write" in result.output


def test_an_unexpected_failure_names_its_type_and_points_at_debug(places, monkeypatch):
    import salesops.cli

    def broken(**_):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(salesops.cli, "maven_export_dir", broken)
    result = invoke(places, ["demo-data", "--scale", "0.001"])
    expect = "unexpected ZeroDivisionError: division by zero (run with --debug for the traceback)"
    assert_one_clear_error(result.output, result.exit_code, expect, 1)


# --- the real entry point ---------------------------------------------------------------------

def _script() -> list[str]:
    script = Path(sys.executable).parent / "salesops"
    assert script.exists(), f"the console script is not installed beside {sys.executable}"
    return [str(script)]


def _run(places, args, env=None, wrap: list[str] | None = None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SALESOPS_")}
    environ["PYTHONPATH"] = str(REPO)  # this checkout, whatever the editable install points at
    environ.update({k: v for k, v in _env(places, env).items() if v is not None})
    return subprocess.run([*(wrap or []), *_script(), *args], capture_output=True, text=True, env=environ,
                          timeout=120, cwd=places["tmp"], check=False)


def test_entry_point_plain_file_home_and_closed_port(places):
    home = _run(places, ["warehouse", "start"], HOME_FILE)
    assert home.stdout == ""
    assert_one_clear_error(home.stderr, home.returncode, f"SALESOPS_HOME {places['plain']} {IS_A_FILE}", 1)
    closed = _run(places, ["warehouse", "url"])
    assert_one_clear_error(closed.stderr, closed.returncode, CANNOT_CONNECT, 1)
    assert "Connection refused" in closed.stderr


def test_entry_point_debug_shows_the_traceback(places):
    for args, env in ((["--debug", "warehouse", "url"], None),
                      (["warehouse", "url"], {"SALESOPS_DEBUG": "1"})):
        shown = _run(places, args, env)
        assert shown.returncode == 1
        assert "Traceback (most recent call last)" in shown.stderr
        assert "salesops.warehouse.WarehouseError: cannot connect" in shown.stderr


def test_entry_point_unwritable_home(places):
    """A home the user cannot write. Root writes anywhere: as root, the probe runs without the
    capabilities that let root ignore permissions (CAP_DAC_OVERRIDE and its kin)."""
    home = Path(places["tmp"]) / "locked"
    home.mkdir()
    home.chmod(0o555)
    wrap = None
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to probe permissions as root"
        wrap = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    result = _run(places, ["warehouse", "start"], {**NO_URL, "SALESOPS_HOME": str(home)}, wrap=wrap)
    expect = f"SALESOPS_HOME {home} is not writable by you"
    assert_one_clear_error(result.stderr, result.returncode, expect, 1)


def _mount_namespaces() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "-rm", "true"], capture_output=True,
                                            check=False).returncode == 0


def test_entry_point_read_only_file_system(places, monkeypatch):
    """A home on a read-only mount, in a private mount namespace where the system allows one;
    elsewhere the same check with the file system's flags reading read-only."""
    home = Path(places["tmp"]) / "ro"
    home.mkdir()
    expect = f"SALESOPS_HOME {home} is on a read-only file system"
    if _mount_namespaces():
        wrap = ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o ro tmpfs '{home}' && exec \"$@\"", "sh"]
        result = _run(places, ["warehouse", "start"], {**NO_URL, "SALESOPS_HOME": str(home)}, wrap=wrap)
        assert_one_clear_error(result.stderr, result.returncode, expect, 1)
    else:
        monkeypatch.setattr(os, "statvfs", lambda path: os.statvfs_result((0,) * 8 + (os.ST_RDONLY, 0)))
        monkeypatch.setattr(os, "access", lambda path, mode: False)
        result = invoke(places, ["warehouse", "start"], {**NO_URL, "SALESOPS_HOME": str(home)})
        assert_one_clear_error(result.output, result.exit_code, expect, 1)


def test_entry_point_closed_pipe_is_quiet(places):
    """`salesops inspect FOLDER | head`: the reader went away; no error, no traceback."""
    folder = Path(places["folder"])
    for i in range(300):  # far more output than a pipe buffers
        (folder / f"orders_{i:03}.csv").write_text(ORDERS)
    result = _run(places, ["inspect", str(folder), "--channel", "orders"],
                  wrap=["sh", "-c", '"$@" | head -c 10 >/dev/null', "sh"])
    assert result.stderr == ""


# --- one pipeline at a time per home ----------------------------------------------------------

def test_a_second_pipeline_command_on_a_busy_home_refuses_and_names_the_first(places):
    """`run`, `build` and `docs` on a home whose pipeline lock another process holds: one clear
    error naming that process, before anything starts; the lock goes with its holder, even killed."""
    from salesops.config import pipeline_lock

    holder_code = ("import sys, time; from salesops.config import pipeline_lock\n"
                   "with pipeline_lock('run'):\n    print('held', flush=True); time.sleep(120)")
    env = {**os.environ, "SALESOPS_HOME": places["home"], "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", holder_code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (["run"], ["build"], ["docs"]):
            result = invoke(places, args)
            assert_one_clear_error(result.output, result.exit_code,
                                   f"`salesops run` (pid {holder.pid}, since ", 1)
            said = f"is already using SALESOPS_HOME {places['home']}; run `salesops {args[0]}` again"
            assert said in result.output
        assert not (Path(places["home"]) / "pgdata").exists()  # refused before any warehouse start
    finally:
        holder.kill()
        holder.wait()
    with pipeline_lock("build"):  # released with its holder
        pass
    assert (Path(places["home"]) / ".pipeline.lock").stat().st_mode & 0o777 == 0o600
