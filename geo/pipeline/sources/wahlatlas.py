"""Reader for the data file of an InstantAtlas "Bremer Wahlatlas" (Statistisches Landesamt Bremen).

The file is InstantAtlas JSON (version 1.3, UTF-8 with byte-order mark, ``data.js``): ``geographies`` (Ortsteile,
Stadtteile, Stadtbezirke), each with ``features`` (id, name), ``comparisonFeatures`` (the cities and the Land) and
``themes`` with ``indicators`` whose ``values`` run parallel to the features (``comparisonValues`` to the
comparison features). Feature ids are a city letter and the district code: ``X111`` -> ``04011111``,
``Y123`` -> ``04012123``; a Stadtteil id is the code of an Ortsteil of it (``Y121`` -> ``04012120``), a
Stadtbezirk id its digit (``X3`` -> ``04011300``). Letters, geographies and comparison names are parameters
(see ``wahlatlas`` in ``geo/pipeline/need_catalogue.yml``).

Every numeric indicator of every geography is read. An empty string, ``"NaN"`` or a missing value becomes NaN with
a reason in ``flag``. A theme's ``metatext`` notes ("Ortsteile Hohweg und Werderland ohne Briefwahl", "Ortsteil
Gröpelingen einschließlich Ortsteil In den Wischen") are kept as flags of the districts they name:
``without_postal_votes``, ``includes_other_ortsteile``, ``includes_postal_votes_of_other_ortsteile`` for values
that cover more or less than the district, and ``included_in_other_ortsteil`` as the reason a value is missing.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import DataNotFoundError, InputError, Problem
from geo.pipeline.catalogue import NeedCatalogue, normalise_name

DATA_COLUMNS = ["geography", "level", "feature_id", "area_name", "key", "comparison", "theme", "indicator_id",
                "indicator_name", "value", "flag"]
DEFAULT_PREFIXES = {"X": "04011", "Y": "04012"}
DEFAULT_GEOGRAPHIES = {"Ortsteile": "ortsteil", "Stadtteile": "stadtteil", "Stadtbezirke": "stadtbezirk"}
DEFAULT_COMPARISONS: dict[str, str | None] = {"Stadt Bremen": "04011000", "Stadt Bremerhaven": "04012000",
                                              "Land Bremen": None}
_FEATURE = re.compile(r"^(?P<city>[A-Za-z])(?P<code>\d{1,3})$")
_TAG = re.compile(r"<[^>]+>")
_SECTION = re.compile(r"<b>\s*(?P<city>[^<:]+?)\s*:?\s*</b>", re.I)


@dataclass
class WahlatlasTable:
    """One Wahlatlas file, read and tidied (``DATA_COLUMNS``), with the notes found per key."""

    file: Path
    data: pd.DataFrame
    notes: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (theme, key) -> flags
    problems: list[Problem] = field(default_factory=list)


def feature_key(feature_id: str, level: str, prefixes: dict[str, str]) -> str | None:
    """Turn a Wahlatlas feature id into a district key, or None when the id does not fit the level.

    ``X111`` (ortsteil) -> ``04011111``; ``Y121`` (stadtteil) -> ``04012120``; ``X3`` (stadtbezirk) ->
    ``04011300``.
    """
    m = _FEATURE.match(feature_id.strip())
    if not m or m.group("city") not in prefixes:
        return None
    code, prefix = m.group("code"), prefixes[m.group("city")]
    if level == "ortsteil":
        return prefix + code if len(code) == 3 else None
    if level == "stadtteil":
        return prefix + code[:2] + "0" if len(code) >= 2 else None
    if level == "stadtbezirk":
        return prefix + code[0] + "00"
    return None


def _value(raw: object) -> tuple[float, str]:
    if raw is None:
        return np.nan, "empty"
    if isinstance(raw, bool):
        return np.nan, "unreadable"
    if isinstance(raw, int | float):
        return (float(raw), "") if math.isfinite(raw) else (np.nan, "unknown")
    text = str(raw).strip()
    if text == "":
        return np.nan, "empty"
    if text.lower() == "nan":
        return np.nan, "unknown"
    try:
        return float(text.replace(",", ".")), ""
    except ValueError:
        return np.nan, "unreadable"


def _name_in(name: str, text: str) -> bool:
    """Whether a feature name occurs in a note; an abbreviated word (``Stadtbrem.``) matches its long form."""
    words = normalise_name(name).split(" ")
    parts = [re.escape(w[:-1]) + r"\w*\.?" if w.endswith(".") else re.escape(w) for w in words]
    return re.search(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", text) is not None


def parse_notes(metatext: str, names_by_city: dict[str, dict[str, str]]) -> tuple[dict[str, set[str]], list[str]]:
    """Flags per key from a theme's notes; and the sentences that name no known district."""
    flags: dict[str, set[str]] = {}
    unmatched: list[str] = []
    pieces = _SECTION.split(metatext)
    sections = [("", pieces[0])] + [(pieces[i], pieces[i + 1]) for i in range(1, len(pieces) - 1, 2)]
    for city, body in sections:
        every = {n: k for d in names_by_city.values() for n, k in d.items()}
        own = names_by_city.get(normalise_name(city), {}) or every
        for sentence in re.split(r"<\s*/?\s*br\s*/?\s*>", body, flags=re.I):
            sentence = normalise_name(_TAG.sub(" ", sentence)).rstrip(".")
            if not sentence:
                continue
            # the section's city wins where a name occurs in both; a district filed under the other city (the
            # city of Bremen's port exclave in Bremerhaven) is found too
            names = {**every, **own}
            if m := re.match(r"^Ortsteile? (?P<names>.+?) ohne Briefwahl$", sentence):
                hits = [k for n, k in names.items() if _name_in(n, m.group("names"))]
                for k in hits:
                    flags.setdefault(k, set()).add("without_postal_votes")
            elif m := re.match(r"^Ortsteil (?P<host>.+?) einschließlich (?P<rest>.+)$", sentence):
                host = [k for n, k in names.items() if normalise_name(n) == m.group("host")]
                rest = m.group("rest")
                whole = re.sub(r"Briefwahl Ortsteile? [^,]+?(?= und |$)", "", rest)
                postal = rest.replace(whole, "") if whole != rest else ""
                hits_whole = [k for n, k in names.items() if _name_in(n, whole)]
                hits = host + hits_whole + [k for n, k in names.items() if postal and _name_in(n, postal)]
                for k in host:
                    if hits_whole:
                        flags.setdefault(k, set()).add("includes_other_ortsteile")
                    if postal:
                        flags.setdefault(k, set()).add("includes_postal_votes_of_other_ortsteile")
                for k in hits_whole:
                    flags.setdefault(k, set()).add("included_in_other_ortsteil")
            else:
                hits = []
            if not hits:
                unmatched.append(sentence)
    return flags, unmatched


def read_wahlatlas(path: str | Path, *, city_prefixes: dict[str, str] | None = None,
                   geographies: dict[str, str] | None = None,
                   comparison_keys: dict[str, str | None] | None = None) -> WahlatlasTable:
    """Read every numeric indicator of every geography of a Wahlatlas data file.

    Raises
    ------
    DataNotFoundError, InputError
        When the file is missing, is not JSON, or has no geographies with features and themes.
    """
    path = Path(path)
    prefixes = city_prefixes or DEFAULT_PREFIXES
    levels = geographies or DEFAULT_GEOGRAPHIES
    comparisons = DEFAULT_COMPARISONS if comparison_keys is None else comparison_keys
    doc = _load(path)
    problems: list[Problem] = []
    records: list[tuple[object, ...]] = []
    notes: dict[tuple[str, str], set[str]] = {}
    for geo in doc["geographies"]:
        gid = str(geo.get("id", ""))
        level = levels.get(gid)
        if level is None:
            problems.append(Problem("wahlatlas_layout", f"{path.name}: geography {gid!r} is not one of "
                                    f"{sorted(levels)}; left out", "warning", file=str(path)))
            continue
        problems += _geography(geo, gid, level, path, prefixes=prefixes, comparisons=comparisons, records=records,
                               notes=notes)
    data = pd.DataFrame(records, columns=DATA_COLUMNS)
    if data.empty:
        raise InputError(f"{path}: unknown layout: no numeric indicator values found in any geography")
    # the same comparison value is repeated in every geography: keep it once
    data = data.drop_duplicates(["key", "level", "theme", "indicator_name"], keep="first").reset_index(drop=True)
    return WahlatlasTable(file=path, data=data, notes=notes, problems=problems)


def _load(path: Path) -> dict[str, Any]:
    """The InstantAtlas JSON document; a missing file or another layout is an error."""
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not an InstantAtlas JSON data file: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("geographies"), list):
        raise InputError(f"{path}: unknown layout: no 'geographies' list (InstantAtlas JSON expected)")
    return doc


def _geography(geo: dict[str, Any], gid: str, level: str, path: Path, *, prefixes: dict[str, str],
               comparisons: dict[str, str | None], records: list[tuple[object, ...]],
               notes: dict[tuple[str, str], set[str]]) -> list[Problem]:
    """Append one geography's values to ``records`` and its notes to ``notes``; return its problems."""
    features = geo.get("features") or []
    keys, names_by_city, problems = _feature_keys(features, gid, level, path, prefixes)
    comp = geo.get("comparisonFeatures") or []
    comp_keys: list[str | None] = []
    for c in comp:
        name = normalise_name(c.get("name", ""))
        if name not in comparisons:
            problems.append(Problem("wahlatlas_unknown_area", f"{path.name}: comparison area {name!r} is not "
                                    "in the catalogue's comparison_keys; left out", "warning", file=str(path)))
        comp_keys.append(comparisons.get(name))
    for theme in geo.get("themes") or []:
        tname = normalise_name(theme.get("name", ""))
        if level == "ortsteil":
            problems += _theme_notes(theme, tname, names_by_city, path, notes)
        for ind in theme.get("indicators") or []:
            if ind.get("type", "numeric") != "numeric":
                continue
            iname = normalise_name(ind.get("name", ""))
            values = ind.get("values") or []
            if len(values) != len(features):
                problems.append(Problem("wahlatlas_layout", f"{path.name}: {gid} / {iname}: {len(values)} values "
                                        f"for {len(features)} features; left out", "warning", file=str(path)))
                continue
            for f, key, raw in zip(features, keys, values, strict=True):
                if key is not None:
                    records.append((gid, level, f.get("id"), f.get("name"), key, False, tname, ind.get("id"),
                                    iname, *_value(raw)))
            for c, key, raw in zip(comp, comp_keys, ind.get("comparisonValues") or [], strict=False):
                if key is not None:
                    records.append((gid, "stadt", c.get("id"), c.get("name"), key, True, tname, ind.get("id"),
                                    iname, *_value(raw)))
    return problems


def _feature_keys(features: list[dict[str, Any]], gid: str, level: str, path: Path, prefixes: dict[str, str],
                  ) -> tuple[list[str | None], dict[str, dict[str, str]], list[Problem]]:
    """Each feature's district key (None: unknown, a warning), and the keys by city and feature name."""
    problems: list[Problem] = []
    keys: list[str | None] = []
    names_by_city: dict[str, dict[str, str]] = {}
    for f in features:
        key = feature_key(str(f.get("id", "")), level, prefixes)
        keys.append(key)
        if key is None:
            problems.append(Problem("wahlatlas_unknown_area", f"{path.name}: {gid} feature {f.get('id')!r} "
                                    f"({f.get('name')}) has no key; left out", "warning", file=str(path)))
            continue
        city = next((normalise_name(x.get("name", "")) for x in f.get("filters") or []
                     if x.get("for") == "filter4"), "")
        names_by_city.setdefault(city, {})[str(f.get("name", ""))] = key
    return keys, names_by_city, problems


def _theme_notes(theme: dict[str, Any], tname: str, names_by_city: dict[str, dict[str, str]], path: Path,
                 notes: dict[tuple[str, str], set[str]]) -> list[Problem]:
    """Add a theme's note flags to ``notes`` by (theme, key); a note naming no Ortsteil is a warning."""
    problems: list[Problem] = []
    for prop in theme.get("properties") or []:
        if prop.get("name") != "metatext":
            continue
        found, unmatched = parse_notes(str(prop.get("value", "")), names_by_city)
        for k, fl in found.items():
            notes.setdefault((tname, k), set()).update(fl)
        for sentence in unmatched:
            problems.append(Problem("wahlatlas_note", f"{path.name}: note {sentence!r} of theme {tname} "
                                    "names no known Ortsteil; not applied", "warning", file=str(path)))
    return problems


def _flag(notes: set[str], flag: str, value: float) -> str:
    """A value's flag from the notes: what the value covers, or why it is missing."""
    if math.isnan(value):
        return "included_in_other_ortsteil" if "included_in_other_ortsteil" in notes else flag
    return ";".join(sorted(notes - {"included_in_other_ortsteil"})) or flag


def to_indicators(table: WahlatlasTable, catalogue: NeedCatalogue) -> tuple[pd.DataFrame, list[Problem]]:
    """The catalogue's Wahlatlas series as rows of the long indicator table; unknown numeric indicators warn."""
    problems: list[Problem] = []
    data = table.data
    found = data[["theme", "indicator_name"]].drop_duplicates()
    parts = []
    matched: set[tuple[str, str]] = set()
    for ind in catalogue.wahl_indicators:
        pattern = re.compile(ind.name)
        for theme, name in found.itertuples(index=False):
            m = pattern.match(name)
            if not m or (ind.theme and theme != ind.theme):
                continue
            matched.add((theme, name))
            part = data[(data["theme"] == theme) & (data["indicator_name"] == name)]
            flags = [_flag(table.notes.get((theme, k), set()), f, v) if lvl == "ortsteil" else f
                     for k, f, v, lvl in zip(part["key"], part["flag"], part["value"], part["level"], strict=True)]
            parts.append(pd.DataFrame({
                "key": part["key"].to_numpy(), "level": part["level"].to_numpy(), "year": int(m.group("year")),
                "indicator": ind.id, "value": part["value"].to_numpy(float) * ind.scale, "numerator": np.nan,
                "denominator": np.nan, "flag": np.array(flags, dtype=object), "base_year": np.nan,
                "source": (f"Wahlatlas {table.file.name}: " + part["geography"] + f" / {name}").to_numpy(),
            }))
    ignore = [re.compile(p) for p in catalogue.wahl_not_in_snapshot]
    for theme, name in found.itertuples(index=False):
        if (theme, name) not in matched and not any(p.search(f"{theme}: {name}") for p in ignore):
            problems.append(Problem("wahlatlas_unknown_indicator", f"{table.file.name}: indicator {name!r} ({theme}) "
                                    f"is not in the need catalogue ({catalogue.path.name}); left out", "warning",
                                    file=str(table.file)))
    columns = ["key", "level", "year", "indicator", "value", "numerator", "denominator", "flag", "base_year",
               "source"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return out[columns], problems
