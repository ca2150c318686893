"""The expectation suites, declared as data: which table, which check, how severe.

A ``critical`` check that fails stops the pipeline (the gate task fails, downstream
does not run); a ``warning`` is logged and booked but lets the data through.

Raw suites are derived from the channel contracts (``ingestion/contracts``), so a new
channel is guarded without code: its required columns must be non-null, its currency
codes three capital letters (critical) and known ISO codes (warning), its amounts
non-negative (warning: credit notes and refunds are legitimate in raw). They run on the
batches loaded since the last successful transform only. Mart suites are explicit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CRITICAL = "critical"
WARNING = "warning"

# ISO 4217 codes a CRM in this market plausibly sends; anything else is worth a look.
KNOWN_CURRENCIES = (
    "AED", "ARS", "AUD", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EUR", "GBP", "HKD",
    "IDR", "ILS",
    "INR", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PEN", "PHP", "PLN", "RUB", "SAR", "SEK", "SGD",
    "THB", "TRY", "TWD", "USD", "VND", "ZAR",
)


@dataclass(frozen=True)
class Check:
    """One expectation: a GX expectation class name, its arguments and a severity."""

    expectation: str
    kwargs: dict
    severity: str = CRITICAL
    description: str = ""

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")


@dataclass(frozen=True)
class Suite:
    """Checks on one relation: a table, or a query (``{since}``/``{upto}`` filled at run time)."""

    name: str
    relation: str  # schema.table the checks are about (named in every message)
    checks: tuple[Check, ...]
    query: str | None = None
    dbt_model: str | None = None  # the dbt model that builds it (marts)
    tags: tuple[str, ...] = field(default=())


def not_null(column: str, severity: str = CRITICAL) -> Check:
    return Check("ExpectColumnValuesToNotBeNull", {"column": column}, severity,
                 f"{column} is never null")


def unique(column: str, severity: str = CRITICAL) -> Check:
    return Check("ExpectColumnValuesToBeUnique", {"column": column}, severity, f"{column} is unique")


def between(column: str, low=None, high=None, severity: str = CRITICAL) -> Check:
    bounds = {k: v for k, v in (("min_value", low), ("max_value", high)) if v is not None}
    text = " and ".join(f"{'>=' if k == 'min_value' else '<='} {v}" for k, v in bounds.items())
    return Check("ExpectColumnValuesToBeBetween", {"column": column, **bounds}, severity,
                 f"{column} {text}")


def no_rows(name: str, query: str, severity: str = CRITICAL) -> Check:
    """An invariant as SQL: ``query`` selects the rows that break it (``{batch}`` is the table)."""
    return Check("UnexpectedRowsExpectation", {"unexpected_rows_query": query}, severity, name)


# --- raw batches (before dbt) --------------------------------------------------------------------

WINDOW = "_batch_id > {since} and _batch_id <= {upto}"


def raw_suites() -> list[Suite]:
    from ingestion.contracts import all_entities

    suites = []
    for entity in all_entities():
        checks: list[Check] = [not_null(c.name) for c in entity.columns if c.required]
        for col in entity.columns:
            if col.type == "currency":
                checks.append(Check("ExpectColumnValuesToMatchRegex",
                                    {"column": col.name, "regex": "^[A-Z]{3}$"}, CRITICAL,
                                    f"{col.name} is a three-letter currency code"))
                checks.append(Check("ExpectColumnValuesToBeInSet",
                                    {"column": col.name, "value_set": list(KNOWN_CURRENCIES)}, WARNING,
                                    f"{col.name} is a known ISO 4217 code"))
            elif col.type == "amount":
                checks.append(between(col.name, low=0, severity=WARNING))
        columns = sorted({c.column for c in checks if c.column} | {"_batch_id"})
        suites.append(Suite(
            name=f"raw_{entity.table}",
            relation=entity.qualified_table,
            checks=tuple(checks),
            query=f"select {', '.join(columns)} from {entity.qualified_table} where {WINDOW}",
            tags=("raw",),
        ))
    suites.append(batches_suite())
    return suites


def batches_suite() -> Suite:
    """The accounting invariant of every batch, checked against what actually landed."""
    from ingestion.contracts import all_entities

    landed = " union all ".join(
        f"select _batch_id, count(*) as n from {e.qualified_table} where {WINDOW} group by _batch_id"
        for e in all_entities())
    query = (
        "select b.batch_id, b.source_file, b.status, b.rows_in,"
        " b.rows_loaded + b.rows_rejected as rows_accounted,"
        " b.rows_loaded, coalesce(l.n, 0) as rows_landed,"
        " b.rows_rejected, (select count(*) from ops.rejected_rows r where r.batch_id = b.batch_id)"
        " as rejects_kept"
        f" from ops.ingestion_batches b left join ({landed}) l on l._batch_id = b.batch_id"
        " where b.status in ('loaded', 'failed') and b.batch_id > {since} and b.batch_id <= {upto}"
    )
    return Suite(
        name="ops_ingestion_batches",
        relation="ops.ingestion_batches",
        query=query,
        checks=(
            Check("ExpectColumnPairValuesToBeEqual", {"column_A": "rows_in", "column_B": "rows_accounted"},
                  CRITICAL, "rows_in = rows_loaded + rows_rejected"),
            Check("ExpectColumnPairValuesToBeEqual", {"column_A": "rows_loaded", "column_B": "rows_landed"},
                  CRITICAL, "rows_loaded = rows found in the raw table for the batch"),
            Check("ExpectColumnPairValuesToBeEqual",
                  {"column_A": "rows_rejected", "column_B": "rejects_kept"},
                  CRITICAL, "rows_rejected = rows kept in ops.rejected_rows"),
        ),
        tags=("raw",),
    )


# --- key marts (after dbt) -----------------------------------------------------------------------

def mart_suites() -> list[Suite]:
    return [
        Suite(
            name="marts_fct_opportunities",
            relation="marts.fct_opportunities",
            dbt_model="fct_opportunities",
            checks=(
                not_null("opportunity_id"),
                unique("opportunity_id"),
                between("amount", low=0),
                # A closed deal without a date is a defect of the export, flagged and kept out of
                # the monthly marts: a warning with its count. What would make a mart wrong is a
                # flag that lies, or an amount whose USD value went missing silently.
                no_rows("won opportunities have a closed_date",
                        "select opportunity_id, closed_date from {batch}"
                        " where is_won and closed_date is null", WARNING),
                no_rows("closed opportunities without a closed_date are flagged is_closed_without_date",
                        "select opportunity_id from {batch} where is_closed_without_date"
                        " is distinct from (is_closed and closed_date is null)"),
                no_rows("every won amount has a USD value or is flagged is_missing_rate",
                        "select opportunity_id, currency from {batch}"
                        " where amount is not null and amount_usd is null and not is_missing_rate"),
                no_rows("every opportunity's stage is known (else has_unknown_stage, counted as open)",
                        "select opportunity_id, stage_raw from {batch} where has_unknown_stage",
                        WARNING),
                no_rows("every amount has a rate to USD (else is_missing_rate)",
                        "select opportunity_id, currency from {batch} where is_missing_rate", WARNING),
                Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, WARNING, "is not empty"),
            ),
        ),
        Suite(
            name="marts_customer_360",
            relation="marts.customer_360",
            dbt_model="customer_360",
            checks=(not_null("customer_id"), unique("customer_id"),
                    Check("ExpectTableRowCountToBeBetween", {"min_value": 1}, WARNING, "is not empty")),
        ),
        Suite(
            name="marts_rep_performance_monthly",
            relation="marts.rep_performance_monthly",
            dbt_model="rep_performance_monthly",
            checks=(between("win_rate", low=0, high=1),),
        ),
    ]
