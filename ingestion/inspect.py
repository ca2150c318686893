"""How a file would load, without loading it: what a user runs before a first load."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingestion import parsing
from ingestion.contracts import contract
from ingestion.errors import IngestionError, excerpt
from ingestion.loader import LoadOptions, find_match, read_bytes
from ingestion.mapping import rank
from ingestion.readers import read_records, remove_nul, sniff_delimiter
from ingestion.validate import validate

_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


@dataclass
class Report:
    source: str
    ok: bool = True
    facts: list[tuple[str, str]] = field(default_factory=list)
    mapping: list[tuple[str, str]] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    error: str = ""

    def lines(self) -> list[str]:
        out = [f"{self.source}"]
        out += [f"  {name:<12} {value}" for name, value in self.facts]
        if self.mapping:
            out.append("  columns:")
            out += [f"    {excerpt(header):<34} -> {target}" for header, target in self.mapping]
        if self.rejects:
            out.append("  first rejected records:")
            out += [f"    record {number}: {reason}" for number, reason in self.rejects]
        if self.error:
            out.append(f"  REFUSED      {self.error}")
        return out


def _delimiter(data: bytes, records) -> str | None:
    if records.file_format not in ("csv", "tsv"):
        return None
    return sniff_delimiter(data.split(b"\n", 1)[0].decode("utf-8", errors="replace"))


def inspect_file(channel: str, source: str, options: LoadOptions, rejects: int = 5) -> Report:
    report = Report(source)
    chan = contract(channel)
    try:
        data = read_bytes(source)
        records = read_records(data, source, encoding=options.encoding)
    except (IngestionError, OSError, ValueError) as exc:
        report.ok, report.error = False, getattr(exc, "problem", str(exc))
        return report
    delimiter = _delimiter(data, records)
    report.facts.append(("format", records.file_format + (f", {_DELIMITER_NAMES[delimiter]}-separated"
                                                         if delimiter else "")))
    report.facts.append(("encoding", records.encoding))
    report.facts.append(("records", f"{records.rows_in:,}"))
    fits = rank(chan, records.column_names, source, options.preset, preset_files=options.preset_files,
                constants=dict(options.constants))
    others = [f"{f.candidate.entity.entity}/{f.candidate.preset or 'contract'} {f.score:g}"
              for f in fits[1:4] if f.columns]
    try:
        found = find_match(chan, records.column_names, source, options)
    except IngestionError as exc:
        report.ok, report.error = False, exc.problem
        report.facts.append(("next fits", ", ".join(others) or "none"))
        return report
    report.facts.insert(0, ("entity", f"{found.entity.entity} -> {found.entity.qualified_table}"
                                      + (f" (preset {found.preset})" if found.preset else " (contract)")))
    report.facts.append(("fit", f"{found.score:g} (next: {', '.join(others) or 'none'})"))
    report.facts.append(("currency", f"{found.default_currency} where a row has none"))
    if found.default_country:
        report.facts.append(("country", f"{found.default_country} where a row has none"))
    by_header = {header: canon for canon, header in found.columns.items()}
    for column in found.entity.columns:
        if column.type in ("date", "timestamp") and column.name in found.columns:
            values = parsing.clean_text(records.table.column(found.columns[column.name]).combine_chunks())
            report.facts.append((column.name, f"dates as {parsing.date_layout(values) or 'unknown'}"))
    report.mapping = [(h, by_header.get(h, "_extra (kept, not a contract column)"))
                      for h in records.column_names]
    report.mapping += [(f"--set/{c}", f"{c} = {v!r}") for c, v in found.constants.items()]
    if found.synthetic_id:
        report.mapping.append(("(none)", f"{found.synthetic_id} made from each record's content"))
    cleaned, nul = remove_nul(records)
    checked = validate(cleaned, found)
    good = checked.good.num_rows
    report.facts.append(("would load", f"{good:,} loaded, {len(checked.rejected):,} rejected"))
    for header, numbers in nul.items():
        report.facts.append(("NUL bytes", f"removed from {excerpt(header)} in {len(numbers)} record(s)"))
    report.rejects = [(number, reason) for number, _, reason in checked.rejected[:rejects]]
    report.ok = good > 0 or records.rows_in == 0
    if not report.ok:
        report.error = "every record would be rejected"
    return report
