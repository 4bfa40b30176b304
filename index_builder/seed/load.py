"""Read ``seed/`` into a :class:`~index_builder.seed.models.Gazetteer`, with errors to fix.

The seed is hand-edited YAML (and one GeoJSON file), so every problem is reported as a
:class:`SeedError` naming the file, the line, the record and the field, never as a traceback:

``SeedLoadError``  raised by :func:`parse_seed` / :func:`load_seed` / :func:`load_gazetteer`;
                   carries ``errors: tuple[SeedError, ...]`` (syntax errors, unknown or missing
                   fields, wrong values, duplicate keys, a missing file).

Parsing is pure (:func:`parse_seed` takes the file texts); only :func:`read_seed_texts` touches
the disk. Cross-record rules (unique ids, links, house ranges, polygons) live in
:mod:`index_builder.seed.validate`, which uses :class:`SeedLocations` to point at lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from index_builder.seed.models import Aliases, Gazetteer, Place, PlaceAlias
from resolver.errors import NoziriError
from resolver.gazetteer import AddressTerm, Link, Sector

PLACES_FILE = "places.yaml"
ALIASES_FILE = "aliases.yaml"
TERMS_FILE = "terms.yaml"
SECTORS_FILE = "sectors.yaml"
LINKS_FILE = "links.yaml"
BOUNDARIES_FILE = "sectors.geojson"
# libyaml's loader is ~10x faster and keeps the same line marks; fall back to pure Python.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REQUIRED_FILES = (PLACES_FILE, ALIASES_FILE, SECTORS_FILE, LINKS_FILE, BOUNDARIES_FILE)
OPTIONAL_FILES = (TERMS_FILE,)  # owned by the text engineer; an absent file means no terms

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class SeedError:
    """One problem in the seed: where it is and what is wrong."""

    file: str
    line: int | None
    record_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        """Render as ``file:line: record_id.field: message`` (absent parts left out)."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        subject = ".".join(part for part in (self.record_id, self.field) if part)
        return f"{where}: {subject}: {self.message}" if subject else f"{where}: {self.message}"


class SeedLoadError(NoziriError):
    """The seed could not be read; ``errors`` lists every problem found."""

    def __init__(self, errors: list[SeedError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class SeedLocations:
    """Line numbers of records and fields: ``(file, record index, field path) -> line``.

    The field path is ``""`` for the record itself, ``"phone"`` or ``"officer.phone"`` for a
    field. Record indexes count from 0 in file order (the order of the gazetteer tuples).
    """

    lines: Mapping[tuple[str, int, str], int] = field(default_factory=dict)
    boundary_index: Mapping[str, int] = field(default_factory=dict)

    def line(self, file: str, index: int, field_path: str = "") -> int | None:
        """Return the line of a field, falling back to the line where its record starts."""
        return self.lines.get((file, index, field_path)) or self.lines.get((file, index, ""))


@dataclass(frozen=True)
class LoadedSeed:
    """A parsed seed, where each record came from, and the hash of its files."""

    gazetteer: Gazetteer
    locations: SeedLocations
    seed_hash: str = ""


@dataclass(frozen=True)
class _Record:
    """One list item of a seed file: its value, index and line numbers."""

    index: int
    value: Any
    lines: dict[str, int]


def load_gazetteer(seed_dir: Path) -> Gazetteer:
    """Read ``seed_dir`` and return the gazetteer.

    Raises:
        SeedLoadError: a file is missing or malformed; ``errors`` says where and what.
    """
    return load_seed(seed_dir).gazetteer


def load_seed(seed_dir: Path) -> LoadedSeed:
    """Read ``seed_dir`` and return the gazetteer with the line of each record."""
    return parse_seed(read_seed_texts(seed_dir))


def seed_hash(texts: Mapping[str, str]) -> str:
    """A short sha256 of the seed files (names and contents): what a version was built from."""
    digest = hashlib.sha256()
    for name in sorted(texts):
        digest.update(f"{name}\0{len(texts[name])}\0{texts[name]}".encode())
    return digest.hexdigest()[:16]


def read_seed_texts(seed_dir: Path) -> dict[str, str]:
    """Read the seed files of ``seed_dir`` by name (an absent optional file is left out).

    Raises:
        SeedLoadError: ``seed_dir`` or a required file is missing or unreadable.
    """
    if not seed_dir.is_dir():
        raise SeedLoadError([_file_error(str(seed_dir), "not a directory; pass the seed dir")])
    texts: dict[str, str] = {}
    errors: list[SeedError] = []
    for name in REQUIRED_FILES + OPTIONAL_FILES:
        path = seed_dir / name
        if not path.exists():
            if name in REQUIRED_FILES:
                errors.append(_file_error(name, f"missing from {seed_dir}; restore it from git"))
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(_file_error(name, f"cannot be read as UTF-8 text: {exc}"))
    if errors:
        raise SeedLoadError(errors)
    return texts


def parse_seed(texts: Mapping[str, str]) -> LoadedSeed:
    """Parse the seed file texts (by file name) into a gazetteer.

    Raises:
        SeedLoadError: every syntax, shape and field error found, across all files.
    """
    errors: list[SeedError] = []
    lines: dict[tuple[str, int, str], int] = {}
    sink = _Sink(errors, lines)
    places = _parse_list(texts, _ListSpec(PLACES_FILE, "places", Place, "id"), sink)
    aliases = _parse_list(texts, _ListSpec(ALIASES_FILE, "places", PlaceAlias, "place_id"), sink)
    terms = _parse_list(texts, _ListSpec(TERMS_FILE, "terms", AddressTerm, "term_class"), sink)
    sectors = _parse_list(texts, _ListSpec(SECTORS_FILE, "sectors", Sector, "id"), sink)
    links = _parse_list(texts, _ListSpec(LINKS_FILE, "links", Link, "place_id"), sink)
    boundaries, boundary_index = _parse_boundaries(texts, errors, lines)
    if errors:
        raise SeedLoadError(errors)
    gazetteer = Gazetteer(
        places=tuple(places),
        aliases=Aliases(places=tuple(aliases), terms=tuple(terms)),
        sectors=tuple(sectors),
        links=tuple(links),
        boundaries=boundaries,
    )
    return LoadedSeed(gazetteer, SeedLocations(lines, boundary_index), seed_hash(texts))


@dataclass(frozen=True)
class _ListSpec(Generic[M]):
    """Where a list of records lives and what each record is."""

    file: str
    key: str
    model: type[M]
    id_field: str


@dataclass(frozen=True)
class _Sink:
    """Collects errors and line numbers while parsing."""

    errors: list[SeedError]
    lines: dict[tuple[str, int, str], int]


def _parse_list(texts: Mapping[str, str], spec: _ListSpec[M], sink: _Sink) -> list[M]:
    """Validate each item of the top-level list ``spec.key`` of ``spec.file``."""
    if spec.file not in texts:
        return []
    parsed: list[M] = []
    for record in _records(texts[spec.file], spec.file, spec.key, sink.errors):
        sink.lines.update({(spec.file, record.index, p): n for p, n in record.lines.items()})
        item = _validate_record(record, spec.file, spec.model, spec.id_field, sink.errors)
        if item is not None:
            parsed.append(item)
    return parsed


def _validate_record(
    record: _Record, file: str, model: type[M], id_field: str, errors: list[SeedError]
) -> M | None:
    """Return the record as ``model``, or None after adding its field errors to ``errors``."""
    record_id = _record_id(record.value, id_field, record.index)
    if not isinstance(record.value, dict):
        errors.append(SeedError(file, record.lines[""], record_id, None, "must be a mapping"))
        return None
    try:
        return model.model_validate(record.value)
    except ValidationError as exc:
        errors.extend(_field_errors(exc, file, record, record_id))
        return None


def _field_errors(
    exc: ValidationError, file: str, record: _Record, record_id: str
) -> Iterator[SeedError]:
    """Turn pydantic's errors into seed errors on the offending field's line."""
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        line = record.lines.get(path) or record.lines[""]
        message = _friendly_message(error["type"], error["msg"], model_field=path)
        yield SeedError(file, line, record_id, path or None, message)


def _friendly_message(error_type: str, message: str, *, model_field: str) -> str:
    """Say what to do for the common mistakes, keep pydantic's wording otherwise."""
    if error_type == "extra_forbidden":
        return f"unknown field {model_field!r}; check its spelling or remove it"
    if error_type == "missing":
        return "required field is missing"
    return message


def _record_id(value: Any, id_field: str, index: int) -> str:
    """The record's id for messages, or its position when it has none."""
    if isinstance(value, dict) and isinstance(value.get(id_field), str | int):
        return str(value[id_field])
    return f"#{index + 1}"


def _records(text: str, file: str, key: str, errors: list[SeedError]) -> list[_Record]:
    """Compose ``text`` and return the items of its top-level list ``key`` with their lines."""
    root = _compose(text, file, errors)
    if root is None:
        return []
    items = _top_level_list(root, file, key, errors)
    if items is None:
        return []
    loader = _Loader("")
    records = []
    for index, node in enumerate(items):
        value = loader.construct_object(node, deep=True)
        lines = {"": node.start_mark.line + 1}
        lines.update(_key_lines(node, "", file, errors))
        records.append(_Record(index, value, lines))
    return records


def _compose(text: str, file: str, errors: list[SeedError]) -> yaml.Node | None:
    """Parse ``text`` into a YAML node tree, reporting a syntax error with its line."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        errors.append(SeedError(file, *_syntax_error_at(exc)))
    except yaml.YAMLError as exc:
        errors.append(SeedError(file, None, None, None, f"YAML syntax error: {exc}"))
    return None


def _syntax_error_at(exc: yaml.MarkedYAMLError) -> tuple[int | None, None, None, str]:
    """Line and message of a YAML syntax error, naming where the broken construct began."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
    start = exc.context_mark
    if exc.context and start is not None and start.line + 1 != line:
        message += f" ({exc.context} that starts on line {start.line + 1})"
    return line, None, None, message


def _top_level_list(
    root: yaml.Node, file: str, key: str, errors: list[SeedError]
) -> list[yaml.Node] | None:
    """Return the item nodes of ``root[key]``, or None after reporting a wrong shape."""
    if not isinstance(root, yaml.MappingNode):
        errors.append(_shape_error(file, root, f"must be a mapping with a '{key}:' list"))
        return None
    for key_node, value_node in root.value:
        if key_node.value != key:
            continue
        if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
            return []
        if not isinstance(value_node, yaml.SequenceNode):
            errors.append(_shape_error(file, value_node, f"'{key}:' must be a list"))
            return None
        return list(value_node.value)
    errors.append(_shape_error(file, root, f"has no '{key}:' list"))
    return None


def _key_lines(
    node: yaml.Node, prefix: str, file: str, errors: list[SeedError]
) -> Iterator[tuple[str, int]]:
    """Yield ``(field path, line)`` for each key of a mapping node, nested ones dotted.

    A key given twice is reported: YAML would silently keep the last value.
    """
    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        path = f"{prefix}{key_node.value}"
        line = key_node.start_mark.line + 1
        if path in seen:
            errors.append(SeedError(file, line, None, path, "key given twice; keep one"))
        seen.add(path)
        yield path, line
        yield from _key_lines(value_node, f"{path}.", file, errors)


def _shape_error(file: str, node: yaml.Node, message: str) -> SeedError:
    """An error about the layout of a file, on the node's line."""
    return SeedError(file, node.start_mark.line + 1, None, None, message)


def _file_error(file: str, message: str) -> SeedError:
    """An error about a whole file."""
    return SeedError(file, None, None, None, message)


def _parse_boundaries(
    texts: Mapping[str, str], errors: list[SeedError], lines: dict[tuple[str, int, str], int]
) -> tuple[dict[str, dict[str, object]], dict[str, int]]:
    """Read the sector polygons: ``sector id -> GeoJSON geometry`` and each feature's index."""
    if BOUNDARIES_FILE not in texts:
        return {}, {}
    records = _geojson_records(texts[BOUNDARIES_FILE], errors)
    boundaries: dict[str, dict[str, object]] = {}
    index_of: dict[str, int] = {}
    for record in records:
        lines.update({(BOUNDARIES_FILE, record.index, p): n for p, n in record.lines.items()})
        parsed = _feature_geometry(record, errors)
        if parsed is None:
            continue
        sector_id, geometry = parsed
        if sector_id in boundaries:
            message = f"second polygon for sector {sector_id}; a sector has exactly one polygon"
            errors.append(_feature_error(record, sector_id, "properties.sector_id", message))
            continue
        boundaries[sector_id] = geometry
        index_of[sector_id] = record.index
    return boundaries, index_of


def _geojson_records(text: str, errors: list[SeedError]) -> list[_Record]:
    """The features of a GeoJSON FeatureCollection, with their lines when they can be found.

    Values come from the JSON parser (exact numbers); line numbers from the YAML composer,
    which reads JSON too.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"JSON syntax error: {exc.msg} (column {exc.colno})"
        errors.append(SeedError(BOUNDARIES_FILE, exc.lineno, None, None, message))
        return []
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        message = "must be a GeoJSON FeatureCollection with a 'features' list"
        errors.append(SeedError(BOUNDARIES_FILE, 1, None, None, message))
        return []
    lines = _feature_lines(text)
    return [_Record(i, item, lines[i] if i < len(lines) else {}) for i, item in enumerate(features)]


def _feature_lines(text: str) -> list[dict[str, int]]:
    """Line numbers of each feature and its keys (none if the YAML composer cannot read it)."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return []
    items = _top_level_list(root, BOUNDARIES_FILE, "features", []) if root else None
    return [
        {"": node.start_mark.line + 1, **dict(_key_lines(node, "", BOUNDARIES_FILE, []))}
        for node in items or []
    ]


def _feature_geometry(
    record: _Record, errors: list[SeedError]
) -> tuple[str, dict[str, object]] | None:
    """Return ``(sector id, geometry)`` of one GeoJSON feature, or None after reporting."""
    value = record.value if isinstance(record.value, dict) else {}
    properties = value.get("properties")
    sector_id = properties.get("sector_id") if isinstance(properties, dict) else None
    if not isinstance(sector_id, str):
        message = "feature needs properties.sector_id naming its sector"
        errors.append(_feature_error(record, None, "properties.sector_id", message))
        return None
    geometry = value.get("geometry")
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in {"Polygon", "MultiPolygon"}:
        message = f"geometry must be a GeoJSON Polygon or MultiPolygon, not {kind!r}"
        errors.append(_feature_error(record, sector_id, "geometry", message))
        return None
    assert isinstance(geometry, dict)
    return sector_id, {str(key): item for key, item in geometry.items()}


def _feature_error(record: _Record, sector_id: str | None, path: str, message: str) -> SeedError:
    """An error about one feature of ``sectors.geojson``."""
    line = record.lines.get(path) or record.lines.get("")
    return SeedError(BOUNDARIES_FILE, line, sector_id or f"#{record.index + 1}", path, message)
