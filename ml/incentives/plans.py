"""Commission plans as versioned, effective-dated YAML (docs/plans.md), checked against the
published JSON Schema (plans/plan.schema.json) and then for what a schema cannot say (tiers
that overlap or leave gaps, versions of a plan in effect at the same time).

An invalid plan is refused with one line naming the file, the line and the field. Numbers are
read as Decimal (never float) and dates as text, so what is validated and hashed is what the
file says.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import yaml

from ml.incentives.tiers import Tier
from salesops.config import REPO_ROOT

PLANS_DIR = REPO_ROOT / "plans"
SCHEMA_PATH = PLANS_DIR / "plan.schema.json"
_PERCENT = re.compile(r"^(-?\d+(?:\.\d+)?)%$")


class PlanError(ValueError):
    """A plan that cannot be used; the message is one line: file, line, field, what is wrong."""


class _Loader(yaml.SafeLoader):
    """YAML with numbers as plain decimals (floats as Decimal; no octal, hex, sexagesimal,
    infinity or NaN), dates kept as text, and a key given twice refused."""


_DECIMAL = re.compile(r"^[-+]?(0|[1-9][0-9]*)(\.[0-9]+)?$")


def _number(loader, node):
    text = loader.construct_scalar(node)
    if not _DECIMAL.match(text):
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a plain decimal number (write 100, 0.5 or 1250.75)", node.start_mark
        )
    return Decimal(text) if "." in text else int(text)


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:float", _number)
_Loader.add_constructor("tag:yaml.org,2002:int", _number)
_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # rate_table, spiff, bonus, override
    spec: dict  # the component as written (Decimal numbers, text percentages)
    tiers: tuple[Tier, ...] = ()

    @property
    def products(self) -> tuple[str, ...] | None:
        return tuple(self.spec["products"]) if "products" in self.spec else None


@dataclass(frozen=True)
class Plan:
    plan_id: str
    version: int
    title: str
    effective_from: date
    effective_to: date | None
    currency: str
    boundary: str
    components: tuple[Component, ...]
    reps: tuple[str, ...] | None
    quota_monthly: Decimal | None
    quota_source: str
    draw: dict | None
    ramp: dict | None
    source: str  # the YAML as written
    sha256: str
    path: str = field(default="", compare=False)
    clawback: dict | None = None  # {window_days, method}: refunds of won deals (orders channel)
    commission_base: str = "booked"  # booked (won deals) | invoiced | paid (their orders)
    commission_amount: str = "gross"  # gross | margin (an order's amount less its cost)

    ends: date | None = field(default=None, compare=False)  # effective_to, or the day before the next version

    def in_effect(self, day: date) -> bool:
        end = self.ends or self.effective_to
        return self.effective_from <= day and (end is None or day <= end)


def percent(text: str) -> Fraction:
    """``'6%'`` as the exact fraction 3/50."""
    return Fraction(Decimal(_PERCENT.match(text)[1])) / 100


def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _line_of(node: yaml.Node, path: list) -> int:
    """The 1-based line of the value at ``path`` in the composed YAML (the deepest node found)."""
    for key in path:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            found = node.value[key]
        else:
            found = None
        if found is None:
            break
        node = found
    return node.start_mark.line + 1


def _where(path: list) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def parse(text: str, path: str = "<plan>") -> Plan:
    """One plan version from its YAML text; PlanError on anything wrong."""
    import jsonschema

    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise PlanError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path}: a plan is a YAML mapping (plan:, version:, components: ...)")
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(
        validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        where = list(error.absolute_path)
        raise PlanError(f"{path}, line {_line_of(root, where)}: {_where(where)}: {_message(error)}")

    def fail(where: list, message: str):
        raise PlanError(f"{path}, line {_line_of(root, where)}: {_where(where)}: {message}")

    start = _date(data["effective_from"], ["effective_from"], fail)
    end = _date(data["effective_to"], ["effective_to"], fail) if "effective_to" in data else None
    if end is not None and end < start:
        fail(["effective_to"], f"{end} is before effective_from {start}")
    _check_values(data, [], fail)
    base, measure = data["commission_base"], data.get("commission_amount", "gross")
    if measure == "margin" and base == "booked":
        fail(
            ["commission_amount"],
            "margin is an order's amount less its cost (orders channel): commission_base invoiced or paid",
        )
    if "clawback" in data and base != "booked":
        fail(
            ["clawback"],
            f"with commission_base {base} a refunded or cancelled order pays nothing already; "
            "clawback: is for booked plans",
        )
    if "ramp" in data and "quota" not in data:
        fail(["ramp"], "a ramp prorates the quota: the plan needs quota: (monthly:, source:)")
    components = []
    names = set()
    for i, spec in enumerate(data["components"]):
        where = ["components", i]
        if spec["name"] in names:
            fail(where + ["name"], f"two components are named {spec['name']!r}")
        names.add(spec["name"])
        tiers = _tiers(spec, where, fail, has_quota="quota" in data) if spec["kind"] == "rate_table" else ()
        if spec["kind"] == "spiff" and spec["to"] < spec["from"]:
            fail(where + ["to"], f"{spec['to']} is before from {spec['from']}")
        if spec["kind"] == "bonus":
            month = _month_of(spec["period"])
            if month is None:
                fail(where + ["period"], f"{spec['period']!r} is not a month (2017-06)")
            if month < date(start.year, start.month, 1) or (end is not None and month > end):
                fail(
                    where + ["period"],
                    f"{spec['period']} is outside the plan's dates ({start} to {end or 'open'})",
                )
        components.append(Component(spec["name"], spec["kind"], spec, tiers))
    quota = data.get("quota") or {}
    return Plan(
        data["plan"],
        data["version"],
        data["title"],
        start,
        end,
        data["currency"],
        data["boundary"],
        tuple(components),
        tuple(data["reps"]) if "reps" in data else None,
        Decimal(quota["monthly"]) if quota else None,
        quota.get("source", "plan"),
        data.get("draw"),
        data.get("ramp"),
        text,
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
        path,
        clawback=data.get("clawback"),
        commission_base=base,
        commission_amount=measure,
    )


_MONEY_KEYS = {"amount", "monthly", "target_incentive", "per_deal", "per_period", "from", "to"}
_PERCENT_KEYS = {"rate", "max_recovery"}  # and every ramp share (below)


def _check_values(node, where: list, fail) -> None:
    """Money in whole cents; rates and the draw's recovery share between 0% and 100%."""
    if isinstance(node, dict):
        for key, value in node.items():
            at = [*where, key]
            if key in _MONEY_KEYS and isinstance(value, Decimal) and value != value.quantize(Decimal("0.01")):
                fail(at, f"{value} has more than two decimals (amounts are in whole cents)")
            if key in _PERCENT_KEYS and isinstance(value, str) and not 0 <= percent(value) <= 1:
                fail(at, f"{value} is not between 0% and 100%")
            if key == "shares" and isinstance(value, list):
                for i, share in enumerate(value):
                    if isinstance(share, str) and not 0 <= percent(share) <= 1:
                        fail([*at, i], f"{share} is not between 0% and 100%")
            _check_values(value, at, fail)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_values(value, [*where, i], fail)


def _month_of(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[5:7]), 1)
    except ValueError:
        return None


def _message(error) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    return error.message


def _date(text: str, where: list, fail) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(where, f"{text!r} is not a date (YYYY-MM-DD)")


def _tiers(spec: dict, where: list, fail, has_quota: bool) -> tuple[Tier, ...]:
    basis, method = spec["basis"], spec["method"]
    if basis == "attainment":
        if spec["accumulate"] == "transaction":
            fail(
                where + ["accumulate"],
                "attainment is measured over a month, quarter or year, not per transaction",
            )
        if "target_incentive" not in spec:
            fail(where, "an attainment table needs target_incentive (paid at 100% of quota)")
        if not has_quota:
            fail(where, "an attainment table needs the plan's quota: (monthly:, source:)")
    elif "target_incentive" in spec:
        fail(where + ["target_incentive"], "target_incentive is for attainment tables (basis: attainment)")
    if "gate" in spec and basis != "attainment":
        fail(where + ["gate"], "a year-to-date gate is for attainment tables (basis: attainment)")
    tiers = []
    for k, t in enumerate(spec["tiers"]):
        at = where + ["tiers", k]
        start = _edge(t["from"], basis, at + ["from"], fail)
        end = _edge(t["to"], basis, at + ["to"], fail) if "to" in t else None
        if end is not None and end <= start:
            fail(at + ["to"], f"to ({t['to']}) is not above from ({t['from']})")
        if k == 0 and start != 0:
            fail(at + ["from"], f"the first tier starts at 0, not {t['from']}")
        if k > 0:
            previous = tiers[-1]
            if previous.end is None:
                fail(at, f"tier {k} has no 'to' but is not the last tier")
            if start < previous.end:
                fail(
                    at + ["from"],
                    f"tiers overlap: this tier starts at {t['from']}, the one before ends at "
                    f"{spec['tiers'][k - 1]['to']}",
                )
            if start > previous.end:
                fail(
                    at + ["from"],
                    f"gap between tiers: the one before ends at {spec['tiers'][k - 1]['to']}, "
                    f"this one starts at {t['from']}",
                )
        payouts = [key for key in ("rate", "amount", "multiplier") if key in t]
        wanted = {
            "step": ("multiplier",) if basis == "attainment" else ("rate",),
            "flat": ("multiplier",) if basis == "attainment" else ("rate", "amount"),
            "interpolated": ("amount",),
        }[method]
        if basis == "attainment" and method == "interpolated":
            fail(where + ["method"], "attainment tables are step or flat")
        if len(payouts) != 1 or payouts[0] not in wanted:
            fail(at, f"a {method} {basis} tier has exactly one of: {', '.join(wanted)}")
        if method == "interpolated" and end is None:
            fail(at, "an interpolated tier needs 'to' (its amount is per full tier)")
        rate = (
            percent(t["rate"])
            if "rate" in t
            else Fraction(Decimal(t["multiplier"]))
            if "multiplier" in t
            else None
        )
        amount = Fraction(Decimal(t["amount"]) * 100) if "amount" in t else None  # cents
        tiers.append(Tier(start, end, rate, amount))
    return tuple(tiers)


def _edge(value, basis: str, where: list, fail) -> Fraction:
    is_percent = isinstance(value, str)
    if basis == "attainment" and not is_percent:
        fail(where, f"an attainment edge is a percentage of quota ('100%'), not {value}")
    if basis == "amount" and is_percent:
        fail(where, f"an amount edge is an amount (150000), not {value!r}")
    return percent(value) if is_percent else Fraction(Decimal(value) * 100)  # cents


def load_file(path: Path) -> Plan:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise PlanError(f"{path}: not UTF-8 text") from None
    return parse(text, str(path))


def load_folder(folder: Path | None = None) -> list[Plan]:
    """Every ``*.yaml``/``*.yml`` plan in ``folder`` (default ``plans/``), checked together: two
    versions of one plan in effect on the same day, or the same version twice, refuse them."""
    folder = Path(folder) if folder else PLANS_DIR
    if not folder.is_dir():
        raise PlanError(f"{folder}: no such folder of plans")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    if not files:
        raise PlanError(f"{folder}: no plan files (*.yaml)")
    return check_versions([load_file(p) for p in files])


def check_versions(plans: list[Plan]) -> list[Plan]:
    """The plans with each open-ended version ended the day before the plan's next version
    (so a plan changes by adding a version, without editing the registered one); refuses two
    versions in effect on the same day and a version number given twice."""
    by_id: dict[str, list[Plan]] = {}
    for p in plans:
        by_id.setdefault(p.plan_id, []).append(p)
    for versions in by_id.values():
        versions.sort(key=lambda p: (p.effective_from, p.version))
        seen = {}
        for p in versions:
            if p.version in seen:
                raise PlanError(
                    f"{p.path}: plan {p.plan_id} version {p.version} is also in {seen[p.version]}"
                )
            seen[p.version] = p.path
        for a, b in zip(versions, versions[1:], strict=False):
            if a.effective_from == b.effective_from or (
                a.effective_to and a.effective_to >= b.effective_from
            ):
                raise PlanError(
                    f"{b.path}: plan {b.plan_id} version {b.version} (from {b.effective_from}) overlaps "
                    f"version {a.version} in {a.path} (from {a.effective_from} to "
                    f"{a.effective_to or 'open'}); "
                    "a later version starts after the earlier one ends"
                )
    out = []
    for versions in by_id.values():
        for a, b in zip(versions, [*versions[1:], None], strict=True):
            end = a.effective_to if a.effective_to or b is None else b.effective_from - timedelta(days=1)
            out.append(replace(a, ends=end))
    return out
