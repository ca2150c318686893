"""Match a file's headers to one of its channel's entities (and, for CRM exports, a preset).

Every (preset, entity) pair of the channel, and every entity with the contract's own
aliases, is scored by how many of the file's headers it explains; a file name that names
the entity (``Opportunity.csv``, ``deals-export.csv``, ``商机.xlsx``) adds a bonus. The best
fit wins even if it lacks a required column: then the file is refused, naming the entity
it looks like, what is missing and the file's real headers, instead of landing in the
wrong table. An entity whose only missing required column is its id (Zoho module
exports) gets stable synthetic ids from each record's content.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import PurePath

from ingestion.contracts import Contract, Entity, normalise_header, presets
from ingestion.errors import IngestionError, headers_excerpt

FILE_HINT_BONUS = 2  # a name hint outweighs one or two shared generic headers (Id, Name)
# A file named as the preset says its CRM names it (Opportunity.csv, Potentials.csv), if the
# fit has every required column: a name alone must not beat another preset's complete fit.
PRESET_FILE_BONUS = 10


@dataclass(frozen=True)
class Match:
    entity: Entity
    preset: str | None
    columns: dict[str, str]  # canonical column -> source header
    unmapped: tuple[str, ...]  # source headers the contract does not know (kept in _extra)
    default_currency: str
    default_country: str | None = None
    synthetic_id: str | None = None  # canonical id column made from each record's content
    joined: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical -> headers joined by a space
    constants: dict[str, str] = field(default_factory=dict)  # canonical column -> value for every row
    score: float = 0.0


@dataclass(frozen=True)
class Candidate:
    entity: Entity
    preset: str | None
    header_map: dict[str, str]  # normalised header -> canonical
    default_currency: str
    default_country: str | None
    joins: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    files: tuple[str, ...] = ()


def candidates(contract: Contract, preset_name: str | None = None,
               preset_files: tuple[str, ...] = ()) -> list[Candidate]:
    chosen = presets(contract.channel, preset_files)
    if preset_name is not None:
        chosen = tuple(p for p in chosen if p.name == preset_name)
        if not chosen:
            names = ", ".join(p.name for p in presets(contract.channel, preset_files)) or "none"
            raise KeyError(f"channel {contract.channel} has no preset {preset_name!r} (presets: {names})")
    out = [
        Candidate(contract.entity(name), preset.name, preset.header_map(name), preset.default_currency,
                  preset.default_country, preset.joins(name), preset.files.get(name, ()))
        for preset in chosen for name in preset.entities
    ]
    if preset_name is None:
        out += [Candidate(e, None, e.header_map(), contract.default_currency, None)
                for e in contract.entities]
    return out


def _name_bonus(candidate: Candidate, source: str, complete: bool) -> int:
    name = source.rsplit("/", 1)[-1]
    if complete and any(fnmatch.fnmatch(name.lower(), pattern.lower()) for pattern in candidate.files):
        return PRESET_FILE_BONUS
    stem = normalise_header(PurePath(name).stem)
    return FILE_HINT_BONUS if any(hint in stem for hint in candidate.entity.file_hints) else 0


def _fit(candidate: Candidate, headers: list[str], source: str, given: set[str]):
    present: dict[str, str] = {}
    for header in headers:
        present.setdefault(normalise_header(header), header)
    columns: dict[str, str] = {}
    for norm, canon in candidate.header_map.items():  # the preset's order of preference
        if canon not in columns and canon not in given and norm in present:
            columns[canon] = present[norm]
    joined: dict[str, tuple[str, ...]] = {}
    for canon, options in candidate.joins.items():
        for parts in options:
            if canon not in columns and canon not in joined and all(p in present for p in parts):
                joined[canon] = tuple(present[p] for p in parts)
    have = set(columns) | set(joined) | given
    missing = [c for c in candidate.entity.required if c not in have]
    # A record needs one of a group (email or phone): a file with none of its columns can't have one.
    groups = (*candidate.entity.require_any, *candidate.entity.require_column)
    missing += [" or ".join(group) for group in groups if not any(c in have for c in group)]
    score = len(columns) + len(joined)
    # One shared 'Id' proves nothing; a preset's file name counts only for a fit that loads.
    complete = not missing or _ids_can_be_made(candidate.entity, missing, score)
    score += _name_bonus(candidate, source, complete) if score >= 2 else 0
    return score, columns, joined, missing


@dataclass(frozen=True)
class Fit:
    score: float
    candidate: Candidate
    columns: dict[str, str]
    joined: dict[str, tuple[str, ...]]
    missing: list[str]
    given: set[str]


def rank(contract: Contract, headers: list[str], source: str, preset: str | None = None, *,
         preset_files: tuple[str, ...] = (), constants: dict[str, str] | None = None) -> list[Fit]:
    """Every candidate's fit to the file's headers, best first (ties: presets before the contract)."""
    fits = []
    for order, cand in enumerate(candidates(contract, preset, preset_files)):
        given = set(constants or {}) & {c.name for c in cand.entity.columns}
        score, columns, joined, missing = _fit(cand, headers, source, given)
        fits.append((score, -order, Fit(score, cand, columns, joined, missing, given)))
    fits.sort(key=lambda f: (f[0], f[1]), reverse=True)
    return [f[2] for f in fits]


def match(contract: Contract, headers: list[str], source: str, preset: str | None = None, *,
          preset_files: tuple[str, ...] = (), constants: dict[str, str] | None = None) -> Match:
    constants = dict(constants or {})
    fits = rank(contract, headers, source, preset, preset_files=preset_files, constants=constants)
    if not fits or not fits[0].columns:
        raise _unrecognised(contract, headers, source)
    best = fits[0]
    cand, columns, missing, given = best.candidate, best.columns, list(best.missing), best.given
    row_constants = {k: v for k, v in constants.items() if k in given}
    for column in cand.entity.columns:
        # Absent from the file (an attendee list without an event id): the file's name stands in.
        if column.from_file_name and column.name in missing:
            row_constants[column.name] = PurePath(source.rsplit("/", 1)[-1]).stem
            missing.remove(column.name)
    synthetic = None
    if _ids_can_be_made(cand.entity, missing, len(columns) + len(best.joined)):
        synthetic, missing = missing[0], []
    if missing:
        raise _missing(contract, cand, columns, missing, headers, source)
    used = set(columns.values()) | {h for parts in best.joined.values() for h in parts}
    unmapped = tuple(h for h in headers if h not in used)
    return Match(cand.entity, cand.preset, columns, unmapped, cand.default_currency, cand.default_country,
                 synthetic, best.joined, row_constants, best.score)


def _ids_can_be_made(entity: Entity, missing: list[str], mapped: int) -> bool:
    """Only the entity's required id column (lead_id, contact_id, opportunity_id) is missing, and
    at least two columns fit: each record's content makes its id (Zoho, Fxiaoke list exports)."""
    ids = [c for c in entity.required if c.endswith("_id")]
    return bool(ids) and missing == ids[:1] and mapped >= 2


def _unrecognised(contract: Contract, headers: list[str], source: str) -> IngestionError:
    entities = ", ".join(e.entity for e in contract.entities)
    names = ", ".join(p.name for p in presets(contract.channel))
    return IngestionError(
        source,
        f"not a {contract.channel} file: none of its columns is a known {contract.channel} column "
        f"(entities: {entities}" + (f"; presets: {names}" if names else "") + ")"
        f"; the file's headers: {headers_excerpt(headers) or 'none'}",
        f"check that the file belongs to the {contract.channel} channel"
        + (", or write a preset for its layout (docs/connecting-your-crm.md)" if names else ""),
    )


def _missing(contract, cand: Candidate, columns, missing, headers, source) -> IngestionError:
    accepted = {c: sorted({h for h, canon in cand.header_map.items() if canon in c.split(" or ")})
                for c in missing}
    detail = "; ".join(f"{c} (accepted headers: {', '.join(v) or 'none'})" for c, v in accepted.items())
    where = cand.entity.entity + (f" (preset {cand.preset})" if cand.preset else "")
    return IngestionError(
        source,
        f"not a complete {contract.channel} file: it looks like {where} ({len(columns)} of its "
        f"{len(headers)} columns match) but lacks required column(s): {detail}; "
        f"the file's headers: {headers_excerpt(headers)}",
        "export the missing column, map it in a preset (docs/connecting-your-crm.md), "
        "or give it a value for every row with --set COLUMN=VALUE",
    )
