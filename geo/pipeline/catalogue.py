"""Which files in the data folder are inputs, and what they are.

Discovery is by pattern, so a new year's table or a new layer of the same format is picked up without code
changes: every ``hb_<level>_<city>.shp`` under ``*/original/``, every CSV under ``*/raw/`` (which must be a
statistics-office table of a known id; any other CSV there is listed in ``Catalogue.ignored`` with the reason and
never read), the funding-area list and the transcribed social indicators when present, the
Ortsteilatlas workbook(s) and the Wahlatlas data file(s), and the census grids (the Zensus 2011 1 km parquet
files of the variables the need catalogue names, the Zensus 2022 100 m extract).

Which published series of the Ortsteilatlas and the Wahlatlas enter the snapshot, under which id, unit and
direction, is data, not code: ``geo/pipeline/need_catalogue.yml``, read by :func:`load_need_catalogue`; so are the
census
variables and files (its ``zensus`` section).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from geo.errors import DataNotFoundError, InputError
from geo.pipeline.sources.statistics import LAYOUTS, read_table_id

LAYER_PATTERNS = {
    "ortsteil": "*/original/hb_ortsteile_*.shp",
    "stadtteil": "*/original/hb_stadtteile_*.shp",
    "stadtbezirk": "*/original/hb_stadtbezirke_*.shp",
}
OUTLINE_PATTERN = "*/original/hb_landesflaeche_*.shp"
STATISTICS_PATTERN = "bremen-*/raw/*.csv"
DESIGNATIONS_PATTERN = "bremen-foerdergebiete/*.csv"
SOCIAL_PATTERN = "bremen-sozialindikatoren/alle_indikatoren_long.csv"
POSTCODES_PATTERN = "bremen-plz-gebiete/original/*.geojson"
ORTSTEILATLAS_PATTERN = "bremen-ortsteilatlas*/raw/*Ortsteilatlas*.xlsx"
WAHLATLAS_PATTERN = "bremen-wahlatlas-*/raw/*_data.js"
#: the 1 km grid, one parquet file per variable; only the variables of the need catalogue's ``zensus`` section
ZENSUS2011_PATTERN = "de-zensus2011-*/raw/continuous_*.parquet"
ZENSUS2022_PATTERN = "*-zensus2022-100m*/zensus2022_100m_*.csv*"
NEED_CATALOGUE = Path(__file__).with_name("need_catalogue.yml")
SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


@dataclass
class Catalogue:
    """The input files found in one data folder."""

    root: Path
    layers: dict[str, list[Path]] = field(default_factory=dict)
    outlines: list[Path] = field(default_factory=list)
    statistics: list[Path] = field(default_factory=list)
    designations: list[Path] = field(default_factory=list)
    social: list[Path] = field(default_factory=list)
    postcodes: list[Path] = field(default_factory=list)
    ortsteilatlas: list[Path] = field(default_factory=list)
    wahlatlas: list[Path] = field(default_factory=list)
    zensus2011: list[Path] = field(default_factory=list)
    zensus2022: list[Path] = field(default_factory=list)
    extra: list[Path] = field(default_factory=list)
    #: any other input files (other datasets list theirs here)
    files: list[Path] = field(default_factory=list)
    #: files under an input folder that no reader knows: (path, reason); not read, not checksummed
    ignored: list[tuple[Path, str]] = field(default_factory=list)

    def ignored_entries(self) -> list[dict[str, str]]:
        """The ignored files as ``{path, reason}``, paths relative to the data folder where possible."""
        return [{"path": _relative(path, self.root), "reason": reason} for path, reason in self.ignored]

    def all_files(self) -> list[Path]:
        """Every input file found (shapefiles with their sidecar files), sorted and each once."""
        files: list[Path] = []
        for paths in self.layers.values():
            for shp in paths:
                files.append(shp)
                files.extend(p for ext in SHAPEFILE_SIDECARS if (p := shp.with_suffix(ext)).is_file())
        for shp in self.outlines:
            files.append(shp)
            files.extend(p for ext in SHAPEFILE_SIDECARS if (p := shp.with_suffix(ext)).is_file())
        files += self.statistics + self.designations + self.social + self.postcodes + self.extra + self.files
        files += self.ortsteilatlas + self.wahlatlas + self.zensus2011 + self.zensus2022
        return sorted(set(files))

    def checksums(self) -> list[dict[str, object]]:
        """SHA-256 and size of every input file, paths relative to the data folder where possible."""
        out = []
        for path in self.all_files():
            data = path.read_bytes()
            out.append({"path": _relative(path, self.root), "sha256": hashlib.sha256(data).hexdigest(),
                        "bytes": len(data)})
        return out


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def statistics_reader_refusal(path: Path) -> str | None:
    """Why no reader knows the CSV ``path`` under a ``bremen-*/raw/`` folder, or None when it is a statistics table.

    A file is a statistics table when its first line is ``<table id>: <title>`` with a table id the reader knows
    (:data:`geo.pipeline.sources.statistics.LAYOUTS`); a known id whose columns differ is still read, and fails, because
    that is a changed table, not a stranger. So is a file named for a known table (``12411-03-03-1980.csv``)
    that is empty, cut short or unreadable: it is a damaged input, and the reader names what is wrong with it.
    """
    digits = re.sub(r"\D", "", path.stem)  # 12411-03-03-2023 -> 124110303 2023; table 173-22 is in 17322.csv
    if path.is_file() and any(digits.startswith(re.sub(r"\D", "", table_id)) for table_id in LAYOUTS):
        return None
    try:
        table_id = read_table_id(path)
    except OSError as exc:
        return f"no reader knows this file: it cannot be opened ({exc.strerror or exc})"
    if table_id is None:
        return ("no reader knows this file: not a known statistics table id / layout (its first line is not "
                "'<table id>: <title>')")
    if table_id not in LAYOUTS:
        return (f"no reader knows this file: not a known statistics table id / layout (table {table_id!r} is not "
                f"one of {', '.join(sorted(LAYOUTS))})")
    return None


def discover(root: Path, *, extra: list[Path] | None = None) -> Catalogue:
    """Find the input files under ``root``; raise :class:`DataNotFoundError` naming what is missing.

    CSV files under ``bremen-*/raw/`` that are no statistics table of a known id are not inputs: they are listed
    in ``ignored`` with the reason (the build warns about each and records them in the manifest).
    """
    cat = Catalogue(root=root)
    for level, pattern in LAYER_PATTERNS.items():
        cat.layers[level] = sorted(root.glob(pattern))
    cat.outlines = sorted(root.glob(OUTLINE_PATTERN))
    for path in sorted(root.glob(STATISTICS_PATTERN)):
        reason = statistics_reader_refusal(path)
        if reason is None:
            cat.statistics.append(path)
        else:
            cat.ignored.append((path, reason))
    cat.designations = sorted(root.glob(DESIGNATIONS_PATTERN))
    cat.social = sorted(root.glob(SOCIAL_PATTERN))
    cat.postcodes = sorted(root.glob(POSTCODES_PATTERN))
    cat.ortsteilatlas = sorted(root.glob(ORTSTEILATLAS_PATTERN))
    cat.wahlatlas = sorted(root.glob(WAHLATLAS_PATTERN))
    grid_variables = load_need_catalogue().zensus_variables()
    cat.zensus2011 = sorted(p for p in root.glob(ZENSUS2011_PATTERN)
                            if p.stem.removeprefix("continuous_") in grid_variables)
    cat.zensus2022 = sorted(root.glob(ZENSUS2022_PATTERN))
    cat.extra = [Path(p) for p in (extra or [])]
    missing = [f"{level} boundaries ({pattern})" for level, pattern in LAYER_PATTERNS.items() if not cat.layers[level]]
    if not cat.statistics:
        missing.append(f"statistics tables ({STATISTICS_PATTERN})")
    if missing:
        raise DataNotFoundError(f"{root}: no input files found for: {', '.join(missing)}")
    for path in cat.extra:
        if not path.is_file():
            raise DataNotFoundError(f"{path}: file not found (given with --extra)")
    return cat


# --- the need catalogue ------------------------------------------------------------------------------------------

DIRECTIONS = ("higher_is_worse", "higher_is_better", "none")
NEED_SOURCES = ("ortsteilatlas", "wahlatlas", "zensus2011", "zensus2022")
ZENSUS_AGGREGATES = ("sum", "resident_weighted", "per_household")
KINDS = ("rate", "mean", "count")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def normalise_name(text: object) -> str:
    """A published indicator or topic name with runs of white space collapsed (how names are matched)."""
    return re.sub(r"\s+", " ", str(text)).strip()


@dataclass(frozen=True)
class NeedIndicator:
    """One published series taken into the snapshot (or read as a base for numerators and denominators)."""

    id: str
    source: str  # ortsteilatlas | wahlatlas | zensus2011 | zensus2022
    unit: str
    direction: str  # higher_is_worse | higher_is_better | none
    label_de: str
    label_en: str
    kind: str = "rate"  # rate | mean | count
    scale: float = 1.0
    in_snapshot: bool = True
    topic: str = ""  # ortsteilatlas: row 1 of the sheet
    name: str = ""  # ortsteilatlas: the indicator name; wahlatlas: a regular expression with a group "year"
    theme: str = ""  # wahlatlas
    #: ortsteilatlas: the base population as signed terms of other entries' ids, e.g. (("atlas_population", 1),
    #: ("atlas_aged_65_plus", -1))
    denominator: tuple[tuple[str, int], ...] = ()
    #: zensus2011: the grid variable (``continuous_<variable>.parquet``) and how cells are aggregated
    #: (sum | resident_weighted | per_household, see :mod:`geo.pipeline.census`)
    variable: str = ""
    aggregate: str = ""
    #: zensus2022: the ``datei_z22data`` names (``*`` as wildcard) summed as numerator and denominator
    numerator_files: tuple[str, ...] = ()
    denominator_files: tuple[str, ...] = ()
    #: zensus: the flag every value carries (e.g. ``lower_bound``)
    flag: str = ""


@dataclass(frozen=True)
class NeedChange:
    """A change indicator: ``id`` = value(``of``, Y) - value(``of``, Y - ``years``)."""

    id: str
    of: str
    years: int
    unit: str
    direction: str
    label_de: str
    label_en: str


@dataclass(frozen=True)
class NeedCatalogue:
    """``geo/pipeline/need_catalogue.yml``, checked."""

    path: Path
    atlas_publisher: str
    atlas_key_prefix: str
    atlas_indicators: tuple[NeedIndicator, ...]
    atlas_not_in_snapshot: frozenset[tuple[str, str]]
    wahl_publisher: str
    wahl_city_prefixes: dict[str, str]
    wahl_geographies: dict[str, str]
    wahl_comparison_keys: dict[str, str | None]
    wahl_indicators: tuple[NeedIndicator, ...]
    wahl_not_in_snapshot: tuple[str, ...]
    sources_by_year: dict[str, tuple[str, ...]]
    agreement_checks: tuple[dict[str, Any], ...]
    #: the ``zensus`` section: settings of the 2011 grid and the 2022 cells, and the census indicators
    zensus_grid: dict[str, Any] = field(default_factory=dict)
    zensus_cells: dict[str, Any] = field(default_factory=dict)
    zensus_indicators: tuple[NeedIndicator, ...] = ()
    changes: tuple[NeedChange, ...] = ()

    @property
    def indicators(self) -> tuple[NeedIndicator, ...]:
        """Every need indicator of the catalogue: the Ortsteilatlas, Wahlatlas and census entries."""
        return self.atlas_indicators + self.wahl_indicators + self.zensus_indicators

    def zensus_variables(self) -> set[str]:
        """The 2011 grid variables to read: the population (the weights) and every indicator's variable."""
        if not self.zensus_indicators:
            return set()
        return {str(self.zensus_grid.get("population", "Einwohner"))} | {
            i.variable for i in self.zensus_indicators if i.source == "zensus2011"}

    def snapshot_ids(self) -> list[str]:
        """The ids this catalogue adds to the snapshot, in catalogue order, each once."""
        return list(dict.fromkeys(i.id for i in self.indicators if i.in_snapshot))


def _entry(raw: dict[str, Any], source: str, where: str) -> NeedIndicator:
    for req in ("id", "unit", "direction", "label_de", "label_en", "name"):
        if not raw.get(req):
            raise InputError(f"{where}: entry {raw.get('id', raw)!r} has no {req!r}")
    ident = str(raw["id"])
    if not _ID.match(ident):
        raise InputError(f"{where}: id {ident!r} is not lower-case snake_case")
    if raw["direction"] not in DIRECTIONS:
        raise InputError(f"{where}: {ident}: direction {raw['direction']!r} is not one of {list(DIRECTIONS)}")
    kind = str(raw.get("kind", "rate"))
    if kind not in KINDS:
        raise InputError(f"{where}: {ident}: kind {kind!r} is not one of {list(KINDS)}")
    terms = []
    for term in raw.get("denominator") or []:
        term = str(term).strip()
        sign = -1 if term.startswith("-") else 1
        terms.append((term.lstrip("+-").strip(), sign))
    if source == "ortsteilatlas" and not raw.get("topic"):
        raise InputError(f"{where}: {ident}: an Ortsteilatlas entry needs its 'topic' (row 1 of the sheet)")
    if source == "wahlatlas":
        try:
            pattern = re.compile(str(raw["name"]))
        except re.error as exc:
            raise InputError(f"{where}: {ident}: name is not a regular expression: {exc}") from exc
        if "year" not in pattern.groupindex:
            raise InputError(f"{where}: {ident}: the name pattern needs a group (?P<year>...)")
    return NeedIndicator(
        id=ident, source=source, unit=str(raw["unit"]), direction=str(raw["direction"]),
        label_de=str(raw["label_de"]), label_en=str(raw["label_en"]), kind=kind,
        scale=float(raw.get("scale", 1.0)), in_snapshot=bool(raw.get("in_snapshot", True)),
        topic=normalise_name(raw.get("topic", "")),
        name=normalise_name(raw["name"]) if source == "ortsteilatlas" else str(raw["name"]),
        theme=normalise_name(raw.get("theme", "")), denominator=tuple(terms))


def _zensus_section(raw: dict[str, Any], where: str, taken: set[str]) -> tuple[NeedIndicator, ...]:
    """The census entries of the need catalogue, each checked for its required keys.

    A 2011 entry names its grid ``variable`` and ``aggregate``, a 2022 entry its ``numerator_files`` (and
    ``denominator_files`` for a rate).
    """
    out = []
    for entry in raw.get("indicators") or []:
        if not isinstance(entry, dict):
            raise InputError(f"{where}: zensus: entry {entry!r} is not a mapping")
        ident = str(entry.get("id", entry))
        missing = [k for k in ("id", "source", "unit", "direction", "label_de", "label_en") if not entry.get(k)]
        if missing:
            raise InputError(f"{where}: zensus: entry {ident!r} has no {missing}")
        if not _ID.match(ident):
            raise InputError(f"{where}: zensus: id {ident!r} is not lower-case snake_case")
        if ident in taken:
            raise InputError(f"{where}: zensus: id {ident!r} is used twice")
        taken.add(ident)
        source = str(entry["source"])
        if source not in ("zensus2011", "zensus2022"):
            raise InputError(f"{where}: zensus: {ident}: source {source!r} is not zensus2011 or zensus2022")
        if entry["direction"] not in DIRECTIONS:
            raise InputError(f"{where}: zensus: {ident}: direction {entry['direction']!r} is not one of "
                             f"{list(DIRECTIONS)}")
        kind = str(entry.get("kind", "rate"))
        if kind not in KINDS:
            raise InputError(f"{where}: zensus: {ident}: kind {kind!r} is not one of {list(KINDS)}")
        aggregate = str(entry.get("aggregate", ""))
        num = tuple(str(f) for f in entry.get("numerator_files") or [])
        den = tuple(str(f) for f in entry.get("denominator_files") or [])
        if source == "zensus2011":
            if not entry.get("variable"):
                raise InputError(f"{where}: zensus: {ident}: a 2011 entry needs its grid 'variable'")
            if aggregate not in ZENSUS_AGGREGATES:
                raise InputError(f"{where}: zensus: {ident}: aggregate {aggregate!r} is not one of "
                                 f"{list(ZENSUS_AGGREGATES)}")
        elif not num:
            raise InputError(f"{where}: zensus: {ident}: a 2022 entry needs its 'numerator_files'")
        elif kind != "count" and not den:
            raise InputError(f"{where}: zensus: {ident}: a 2022 {kind} needs its 'denominator_files'")
        out.append(NeedIndicator(
            id=ident, source=source, unit=str(entry["unit"]), direction=str(entry["direction"]),
            label_de=str(entry["label_de"]), label_en=str(entry["label_en"]), kind=kind,
            in_snapshot=bool(entry.get("in_snapshot", True)), name=str(entry.get("variable") or " + ".join(num)),
            variable=str(entry.get("variable", "")), aggregate=aggregate, numerator_files=num,
            denominator_files=den, flag=str(entry.get("flag", ""))))
    return tuple(out)


def load_need_catalogue(path: str | Path | None = None) -> NeedCatalogue:
    """Read and check the need catalogue (default: the one shipped beside this module).

    Raises
    ------
    InputError
        Naming the file and the entry when the catalogue is malformed (unknown direction, duplicate id,
        a denominator naming no entry, ...).
    """
    return _load_need_catalogue(Path(path) if path else NEED_CATALOGUE)


@lru_cache(maxsize=8)
def _load_need_catalogue(path: Path) -> NeedCatalogue:
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{where}: cannot read the need catalogue: {exc}") from exc
    atlas = raw.get("ortsteilatlas") or {}
    wahl = raw.get("wahlatlas") or {}
    atlas_ind = tuple(_entry(e, "ortsteilatlas", where) for e in atlas.get("indicators") or [])
    wahl_ind = tuple(_entry(e, "wahlatlas", where) for e in wahl.get("indicators") or [])
    seen: dict[tuple[str, str], str] = {}
    for ind in atlas_ind:
        if (ind.topic, ind.name) in seen:
            raise InputError(f"{where}: {ind.id} and {seen[(ind.topic, ind.name)]} name the same workbook "
                             f"indicator ({ind.topic}: {ind.name})")
        seen[(ind.topic, ind.name)] = ind.id
    ids = [i.id for i in atlas_ind]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"{where}: ids used twice in the Ortsteilatlas section: {dup}")
    for ind in atlas_ind:
        for base, _sign in ind.denominator:
            if base not in ids:
                raise InputError(f"{where}: {ind.id}: denominator term {base!r} is no Ortsteilatlas entry")
    by_id = {i.id: i for i in atlas_ind}
    for ind in wahl_ind:  # an id in both sources is one indicator: unit and direction must agree
        other = by_id.get(ind.id)
        if other is not None and (other.unit, other.direction) != (ind.unit, ind.direction):
            raise InputError(f"{where}: {ind.id}: unit or direction differ between the two sources")
    unused = frozenset((normalise_name(topic), normalise_name(name))
                       for topic, names in (atlas.get("not_in_snapshot") or {}).items() for name in names or [])
    both = sorted(f"{t}: {n}" for t, n in unused & set(seen))
    if both:
        raise InputError(f"{where}: listed both as an indicator and under not_in_snapshot: {both}")
    sources_by_year = {str(k): tuple(str(s) for s in v) for k, v in (raw.get("sources_by_year") or {}).items()}
    for ident, sources in sources_by_year.items():
        bad = [s for s in sources if s not in NEED_SOURCES]
        if bad:
            raise InputError(f"{where}: sources_by_year {ident}: unknown source(s) {bad}; known {list(NEED_SOURCES)}")
    zensus = raw.get("zensus") or {}
    zensus_ind = _zensus_section(zensus, where, {i.id for i in atlas_ind + wahl_ind})
    return NeedCatalogue(
        path=path, atlas_publisher=str(atlas.get("publisher", "Ortsteilatlas")),
        atlas_key_prefix=str(atlas.get("key_prefix", "04011")), atlas_indicators=atlas_ind,
        atlas_not_in_snapshot=unused, wahl_publisher=str(wahl.get("publisher", "Wahlatlas")),
        wahl_city_prefixes={str(k): str(v) for k, v in (wahl.get("city_prefixes") or {}).items()},
        wahl_geographies={str(k): str(v) for k, v in (wahl.get("geographies") or {}).items()},
        wahl_comparison_keys={str(k): (str(v) if v is not None else None)
                              for k, v in (wahl.get("comparison_keys") or {}).items()},
        wahl_indicators=wahl_ind, wahl_not_in_snapshot=tuple(str(p) for p in wahl.get("not_in_snapshot") or []),
        sources_by_year=sources_by_year,
        zensus_grid=dict(zensus.get("grid_2011") or {}), zensus_cells=dict(zensus.get("cells_2022") or {}),
        zensus_indicators=zensus_ind,
        agreement_checks=tuple(dict(c) for c in raw.get("agreement_checks") or []),
        changes=_changes(raw.get("changes") or [], {i.id for i in atlas_ind + wahl_ind}, where))


def _changes(raw: list[Any], known: set[str], where: str) -> tuple[NeedChange, ...]:
    out = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise InputError(f"{where}: changes: entry {entry!r} is not a mapping")
        missing = [k for k in ("id", "of", "years", "unit", "direction", "label_de", "label_en") if not entry.get(k)]
        if missing:
            raise InputError(f"{where}: changes: entry {entry.get('id', entry)!r} has no {missing}")
        if str(entry["of"]) not in known:
            raise InputError(f"{where}: changes: {entry['id']}: {entry['of']!r} is no indicator of the catalogue")
        years = entry["years"]
        if not isinstance(years, int) or isinstance(years, bool) or years < 1:
            raise InputError(f"{where}: changes: {entry['id']}: years must be a positive whole number, got {years!r}")
        if entry["direction"] not in DIRECTIONS:
            raise InputError(f"{where}: changes: {entry['id']}: unknown direction {entry['direction']!r}")
        out.append(NeedChange(id=str(entry["id"]), of=str(entry["of"]), years=years, unit=str(entry["unit"]),
                              direction=str(entry["direction"]), label_de=str(entry["label_de"]),
                              label_en=str(entry["label_en"])))
    return tuple(out)
