"""Channel contracts: what each channel sends, declared in ``contracts/<channel>.yml``.

A contract names a channel's entities, and for each its raw table and columns (type,
required, accepted header aliases, allowed values, bounds). Column-mapping presets in
``presets/<name>.yml`` let one channel (``crm_export``) accept other CRMs' layouts.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).with_name("contracts")
PRESETS_DIR = Path(__file__).with_name("presets")
TYPES = {
    "text": "text",
    "integer": "bigint",
    "numeric": "numeric",
    "amount": "numeric",
    "currency": "char(3)",
    "date": "date",
    "timestamp": "timestamptz",
    "boolean": "boolean",
}
# Load metadata carried by every raw row, in this order after the contract's columns.
METADATA_COLUMNS = {
    "_batch_id": "bigint not null",
    "_row_number": "bigint not null",
    "_record_hash": "text not null",
    "_loaded_at": "timestamptz not null",
}


def normalise_header(header: str) -> str:
    """'  E-mail Address ' -> 'e_mail_address'; full-width forms folded; CJK kept."""
    text = unicodedata.normalize("NFKC", header).strip().lstrip("\ufeff").lower()
    return re.sub(r"[^\w]+", "_", text).strip("_")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    currency_column: str | None = None
    from_file_name: bool = False  # absent from the file: the file's name stands in (event lists)

    @property
    def sql_type(self) -> str:
        return TYPES[self.type]


@dataclass(frozen=True)
class Entity:
    channel: str
    entity: str
    table: str
    columns: tuple[Column, ...]
    require_any: tuple[tuple[str, ...], ...] = ()
    file_hints: tuple[str, ...] = ()  # words in a file's name that suggest this entity
    # A file must carry one column of each group; its rows may leave them empty (flagged later).
    require_column: tuple[tuple[str, ...], ...] = ()

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.table}"

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def header_map(self) -> dict[str, str]:
        """Normalised header -> canonical column name (names and aliases)."""
        mapping = {}
        for col in self.columns:
            for header in (col.name, *col.aliases):
                mapping.setdefault(normalise_header(header), col.name)
        return mapping


@dataclass(frozen=True)
class Contract:
    channel: str
    description: str
    formats: tuple[str, ...]
    default_currency: str
    entities: tuple[Entity, ...]

    def entity(self, name: str) -> Entity:
        for entity in self.entities:
            if entity.entity == name:
                return entity
        raise KeyError(f"channel {self.channel} has no entity {name!r}")


JOIN = " + "  # in a preset, 'First Name + Last Name': the values joined by a space


class PresetError(ValueError):
    """A preset file that cannot be used: says which file and what is wrong in it."""


@dataclass(frozen=True)
class Preset:
    """A CRM layout: for each entity, canonical column -> the headers that CRM writes."""

    name: str
    description: str
    channel: str
    default_currency: str
    entities: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    ignore_files: tuple[str, ...] = ()  # documentation shipped inside the export
    default_country: str | None = None  # ISO-3166 alpha-2, for national phone numbers
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # entity -> file name patterns
    path: str = ""

    def header_map(self, entity: str) -> dict[str, str]:
        """Normalised source header -> canonical column, for one entity of this preset, in the
        preset's order of preference."""
        mapping: dict[str, str] = {}
        for canon, headers in self.entities[entity].items():
            for header in headers:
                if JOIN not in header:
                    mapping.setdefault(normalise_header(header), canon)
        return mapping

    def joins(self, entity: str) -> dict[str, list[tuple[str, ...]]]:
        """Canonical column -> header lists whose values are joined ('FirstName + LastName')."""
        return {
            canon: [tuple(normalise_header(p) for p in h.split(JOIN)) for h in headers if JOIN in h]
            for canon, headers in self.entities[entity].items()
            if any(JOIN in h for h in headers)
        }


def _column(spec: dict) -> Column:
    if spec["type"] not in TYPES:
        raise ValueError(f"column {spec['name']}: unknown type {spec['type']!r}")
    return Column(
        name=spec["name"],
        type=spec["type"],
        required=bool(spec.get("required", False)),
        aliases=tuple(spec.get("aliases", ())),
        allowed=tuple(spec["allowed"]) if "allowed" in spec else None,
        min=spec.get("min"),
        max=spec.get("max"),
        currency_column=spec.get("currency_column"),
        from_file_name=bool(spec.get("from_file_name", False)),
    )


@cache
def contract(channel: str) -> Contract:
    path = CONTRACTS_DIR / f"{channel}.yml"
    if not path.exists():
        raise KeyError(f"unknown channel {channel!r}; channels: {', '.join(channels())}")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    entities = tuple(
        Entity(
            channel=spec["channel"],
            entity=e["entity"],
            table=e["table"],
            columns=tuple(_column(c) for c in e["columns"]),
            require_any=tuple(tuple(group) for group in e.get("require_any", ())),
            file_hints=tuple(e.get("file_hints", ())),
            require_column=tuple(tuple(group) for group in e.get("require_column", ())),
        )
        for e in spec["entities"]
    )
    return Contract(
        channel=spec["channel"],
        description=" ".join(spec.get("description", "").split()),
        formats=tuple(spec["formats"]),
        default_currency=spec.get("default_currency", "USD"),
        entities=entities,
    )


def channels() -> list[str]:
    return sorted(p.stem for p in CONTRACTS_DIR.glob("*.yml"))


def all_entities() -> list[Entity]:
    return [entity for name in channels() for entity in contract(name).entities]


def preset_dirs() -> list[Path]:
    """The packaged presets, then the user's folders (``SALESOPS_PRESETS_DIR``, os.pathsep-separated)."""
    user = [Path(p).expanduser() for p in os.environ.get("SALESOPS_PRESETS_DIR", "").split(os.pathsep) if p]
    return [PRESETS_DIR, *user]


def presets(channel: str, files: tuple[str, ...] = ()) -> tuple[Preset, ...]:
    """The channel's presets: packaged, user folders, then ``files``; a later one of the same name wins."""
    paths = [p for folder in preset_dirs() if folder.is_dir() for p in sorted(folder.glob("*.y*ml"))]
    for file in files:
        if not Path(file).is_file():
            raise PresetError(f"{file}: no such preset file")
        paths.append(Path(file))
    found: dict[str, Preset] = {}
    for path in paths:
        preset = load_preset(str(path.resolve()), path.stat().st_mtime_ns)
        if preset is not None and preset.channel == channel:
            found[preset.name] = preset
    return tuple(found.values())


@cache
def load_preset(path: str, _mtime: int = 0) -> Preset | None:
    """Read and check one preset file (cached per file version)."""
    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PresetError(f"{path}: not a readable YAML preset ({' '.join(str(exc).split())})") from exc
    if not isinstance(spec, dict) or "preset" not in spec or "entities" not in spec:
        if isinstance(spec, dict) and "channel" not in spec:
            return None  # some other YAML file in the folder
        raise PresetError(f"{path}: a preset needs 'preset', 'channel' and 'entities'")
    channel = spec.get("channel")
    if channel not in channels():
        raise PresetError(f"{path}: unknown channel {channel!r} (channels: {', '.join(channels())})")
    chan = contract(channel)
    entities: dict[str, dict[str, tuple[str, ...]]] = {}
    for entity_name, mapping in (spec["entities"] or {}).items():
        try:
            known = {c.name for c in chan.entity(entity_name).columns}
        except KeyError as exc:
            names = ", ".join(e.entity for e in chan.entities)
            raise PresetError(f"{path}: unknown entity {entity_name!r} (entities: {names})") from exc
        unknown = sorted(set(mapping or {}) - known)
        if unknown:
            raise PresetError(f"{path}: {entity_name} maps unknown column(s) {', '.join(unknown)} "
                              f"(columns: {', '.join(sorted(known))})")
        entities[entity_name] = {
            canon: (headers,) if isinstance(headers, str) else tuple(str(h) for h in headers)
            for canon, headers in (mapping or {}).items()
        }
    country = spec.get("default_country")
    files = {e: (p,) if isinstance(p, str) else tuple(p) for e, p in (spec.get("files") or {}).items()}
    unknown_files = sorted(set(files) - set(entities))
    if unknown_files:
        raise PresetError(f"{path}: files names entities the preset does not map: {', '.join(unknown_files)}")
    return Preset(
        name=str(spec["preset"]),
        description=" ".join(str(spec.get("description", "")).split()),
        channel=channel,
        default_currency=spec.get("default_currency") or chan.default_currency,
        entities=entities,
        ignore_files=tuple(spec.get("ignore_files", ())),
        default_country=str(country).upper() if country else None,
        files=files,
        path=path,
    )
