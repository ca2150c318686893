"""Run suites as one GX checkpoint against the warehouse; report per expectation.

GX 1.x objects, all in an ephemeral context (nothing written to disk): a Postgres
datasource whose connection string is a ``${SALESOPS_GX_URL}`` reference (GX resolves
it from the environment, so the URL and its password never land in GX config), one
query asset per suite, expectation suites, validation definitions and a
checkpoint that runs them together.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field

from salesops.quality.suites import CRITICAL, Suite

log = logging.getLogger(__name__)

GX_URL_ENV = "SALESOPS_GX_URL"


@dataclass
class Outcome:
    """The result of one expectation on one relation."""

    suite: str
    relation: str
    expectation: str
    column: str | None
    description: str
    severity: str
    success: bool
    observed: str

    def line(self) -> str:
        where = f"{self.relation}.{self.column}" if self.column else self.relation
        verdict = "ok" if self.success else ("FAILED" if self.severity == CRITICAL else "WARNING")
        return (f"{verdict:7} {self.severity:8} {where}: {self.description} ({self.expectation}); "
                f"{self.observed}")


@dataclass
class GateReport:
    gate: str
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def critical_failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity == CRITICAL]

    @property
    def warnings(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success and o.severity != CRITICAL]

    @property
    def passed(self) -> bool:
        return not self.critical_failures

    def summary(self) -> dict:
        return {
            "gate": self.gate,
            "passed": self.passed,
            "checks": len(self.outcomes),
            "failed_critical": [o.line() for o in self.critical_failures],
            "warnings": [o.line() for o in self.warnings],
            "skipped": self.skipped,
        }

    def as_dict(self) -> dict:
        return {"summary": self.summary(), "outcomes": [asdict(o) for o in self.outcomes]}


def sqlalchemy_url(url: str) -> str:
    """A libpq URL or conninfo string as a SQLAlchemy URL on the psycopg 3 driver."""
    import psycopg
    from sqlalchemy.engine import URL

    parts = psycopg.conninfo.conninfo_to_dict(url)
    query = {k: str(v) for k, v in parts.items() if k not in {"host", "port", "user", "password", "dbname"}}
    return URL.create(
        "postgresql+psycopg",
        username=parts.get("user"),
        password=parts.get("password"),
        host=parts.get("host"),
        port=int(parts["port"]) if parts.get("port") else None,
        database=parts.get("dbname"),
        query=query,
    ).render_as_string(hide_password=False)


def _observed(result: dict, expectation: str) -> str:
    """What GX saw, in words: counts, the observed value and a few offending values."""
    if not result:
        return "no result"
    parts = []
    if "observed_value" in result and result["observed_value"] is not None:
        parts.append(f"observed {result['observed_value']!r}")
    if result.get("unexpected_count"):
        total = result.get("element_count")
        share = result.get("unexpected_percent")
        count = f"{result['unexpected_count']} unexpected"
        if total is not None:
            count += f" of {total} rows"
        if share is not None:
            count += f" ({share:.2f}%)"
        parts.append(count)
    sample = result.get("partial_unexpected_list")
    if sample:
        parts.append(f"e.g. {sample[:5]!r}")
    details = result.get("details")
    rows = details.get("unexpected_rows") if isinstance(details, dict) else None
    if rows:
        parts.append(f"e.g. {list(rows)[:3]!r}")
    return "; ".join(parts) or ("passed" if expectation else "")


def run_suites(gate: str, url: str, suites: list[Suite], params: dict | None = None) -> GateReport:
    """Build the GX objects for ``suites`` and run them as one checkpoint."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    report = GateReport(gate)
    if not suites:
        return report
    os.environ[GX_URL_ENV] = sqlalchemy_url(url)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # task logs, not a terminal
    datasource = context.data_sources.add_postgres("warehouse", connection_string=f"${{{GX_URL_ENV}}}")
    definitions = []
    by_name: dict[str, Suite] = {}
    for spec in suites:
        # A query asset for tables too: GX deprecates schema_name on table assets.
        statement = spec.query.format(**(params or {})) if spec.query else f"select * from {spec.relation}"
        asset = datasource.add_query_asset(spec.name, query=statement)
        batch = asset.add_batch_definition_whole_table("whole")
        suite = context.suites.add(gx.ExpectationSuite(name=spec.name))
        for check in spec.checks:
            cls = getattr(gxe, check.expectation)
            suite.add_expectation(cls(**check.kwargs, severity=check.severity,
                                      description=check.description or None,
                                      meta={"relation": spec.relation}))
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=spec.name, data=batch, suite=suite)))
        by_name[spec.name] = spec
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=f"salesops_{gate}", validation_definitions=definitions,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
    ))
    result = checkpoint.run()
    for validation in result.run_results.values():
        spec = by_name[validation.suite_name]
        for r in validation.results:
            config = r.expectation_config
            kwargs = config.kwargs
            observed = _observed(r.result, config.type)
            if r.exception_info and r.exception_info.get("raised_exception"):
                message = str(r.exception_info.get("exception_message") or "").strip().splitlines()
                observed = f"could not be evaluated: {message[0] if message else 'error'}"
            report.outcomes.append(Outcome(
                suite=spec.name,
                relation=spec.relation,
                expectation=config.type,
                column=kwargs.get("column") or (
                    f"{kwargs['column_A']}/{kwargs['column_B']}" if "column_A" in kwargs else None),
                description=config.description or config.type,
                severity=str(getattr(config.severity, "value", config.severity) or CRITICAL),
                success=bool(r.success),
                observed=observed,
            ))
    return report
