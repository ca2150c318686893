"""Match a file's headers to one of its channel's entities (and, for CRM exports, a preset)."""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.contracts import Contract, Entity, normalise_header, presets
from ingestion.errors import IngestionError


@dataclass(frozen=True)
class Match:
    entity: Entity
    preset: str | None
    columns: dict[str, str]  # canonical column -> source header
    unmapped: tuple[str, ...]  # source headers the contract does not know (kept in _extra)
    default_currency: str


def _candidates(contract: Contract, preset_name: str | None):
    """(entity, preset name, {normalised source header: canonical}, default currency)."""
    chosen = presets(contract.channel)
    if preset_name is not None:
        chosen = tuple(p for p in chosen if p.name == preset_name)
        if not chosen:
            names = ", ".join(p.name for p in presets(contract.channel)) or "none"
            raise KeyError(f"channel {contract.channel} has no preset {preset_name!r} (presets: {names})")
    for preset in chosen:
        for entity_name, mapping in preset.entities.items():
            entity = contract.entity(entity_name)
            header_map = {normalise_header(src): canon for canon, src in mapping.items()}
            yield entity, preset.name, header_map, preset.default_currency
    if preset_name is None:
        for entity in contract.entities:
            yield entity, None, entity.header_map(), contract.default_currency


def match(contract: Contract, headers: list[str], source: str, preset: str | None = None) -> Match:
    normalised = {normalise_header(h): h for h in headers}
    best, best_score, nearest = None, -1, None
    for entity, preset_name, header_map, currency in _candidates(contract, preset):
        columns: dict[str, str] = {}
        for norm, original in normalised.items():
            canon = header_map.get(norm)
            if canon and canon not in columns:
                columns[canon] = original
        missing = [c for c in entity.required if c not in columns]
        if missing:
            if nearest is None or len(columns) > len(nearest[2]):
                nearest = (entity, preset_name, columns, missing, header_map)
            continue
        if len(columns) > best_score:
            unmapped = tuple(h for h in headers if h not in set(columns.values()))
            best, best_score = Match(entity, preset_name, columns, unmapped, currency), len(columns)
    if best is not None:
        return best
    expected = _describe_expected(contract, nearest)
    raise IngestionError(
        source,
        f"not a {contract.channel} file: {expected}; found columns: {', '.join(headers) or 'none'}",
        f"check that the file belongs to the {contract.channel} channel"
        + (" or add a column-mapping preset under ingestion/presets/" if presets(contract.channel) else ""),
    )


def _describe_expected(contract: Contract, nearest) -> str:
    if nearest is None:
        return "no entity of the channel matches"
    entity, preset_name, columns, missing, header_map = nearest
    if not columns:
        entities = ", ".join(e.entity for e in contract.entities)
        names = ", ".join(p.name for p in presets(contract.channel))
        return (f"none of its columns is a known {contract.channel} column (entities: {entities}"
                + (f"; presets: {names}" if names else "") + ")")
    accepted = {
        canon: sorted({src for src, c in header_map.items() if c == canon}) for canon in missing
    }
    detail = "; ".join(f"{c} (accepted headers: {', '.join(v)})" for c, v in accepted.items())
    where = f"{entity.entity}" + (f" in preset {preset_name}" if preset_name else "")
    return f"missing required column(s) for {where}: {detail}"
