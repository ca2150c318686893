"""Channel contracts: what each channel sends, declared in ``contracts/<channel>.yml``.

A contract names a channel's entities, and for each its raw table and columns (type,
required, accepted header aliases, allowed values, bounds). Column-mapping presets in
``presets/<name>.yml`` let one channel (``crm_export``) accept other CRMs' layouts.
"""

from __future__ import annotations

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
    "_source_file": "text not null",
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


@dataclass(frozen=True)
class Preset:
    """A CRM layout: for each entity, canonical column -> the header that CRM writes."""

    name: str
    description: str
    channel: str
    default_currency: str
    entities: dict[str, dict[str, str]] = field(default_factory=dict)
    ignore_files: tuple[str, ...] = ()  # documentation shipped inside the export


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


@cache
def presets(channel: str) -> tuple[Preset, ...]:
    found = []
    for path in sorted(PRESETS_DIR.glob("*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if spec["channel"] != channel:
            continue
        entities = contract(channel)
        for entity_name, mapping in spec["entities"].items():
            known = {c.name for c in entities.entity(entity_name).columns}
            unknown = set(mapping) - known
            if unknown:
                raise ValueError(f"preset {path.name}: {entity_name} maps unknown columns {unknown}")
        found.append(
            Preset(
                name=spec["preset"],
                description=" ".join(spec.get("description", "").split()),
                channel=channel,
                default_currency=spec.get("default_currency", "USD"),
                entities=spec["entities"],
                ignore_files=tuple(spec.get("ignore_files", ())),
            )
        )
    return tuple(found)
