"""Readers for the hand-compiled tables: funding areas, transcribed social indicators, users' tidy tables.

All three are UTF-8, comma-separated CSV files with one header row. Each reader checks its columns and its
keys, and returns a tidy frame; problems are raised as :class:`~geo.errors.InputError` naming the file.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from geo.errors import DataNotFoundError, InputError

KEY_PATTERN = re.compile(r"^\d{8}$")

#: programme tags recognised in the free-text status of the funding-area list, in order of precedence
PROGRAMME_PATTERNS: tuple[tuple[str, str], ...] = (
    ("llq_kleinst_sonder", r"Kleinst-/Sonder"),
    ("llq_quartier_im_werden", r"Quartiere im Werden"),
    ("efre_stadtumbau", r"EFRE|Stadtumbau"),
    ("win", r"(?<!not )WiN\b|Fördergebiet soziale Stadtentwicklung"),
)
#: confidence flags of the list, best first
#: an Ortsteil reached by the designation of the whole Stadtbezirk or Stadtteil it lies in (not named itself)
DISTRICT_WIDE = "district-wide"
CONFIDENCE_ORDER = ("stated-in-source", "named-ortsteil", "scout-guess", "unknown", DISTRICT_WIDE)

DESIGNATION_COLUMNS = (
    "gebiet", "stadt", "programm_status", "quellen_urls", "quelle_stand", "ortsteil_hinweis_keys",
    "ortsteil_hinweis_namen", "hinweis_sicherheit",
)
SOCIAL_COLUMNS = ("stadt", "ebene", "gebiet_name", "gebiet_nr", "indikator", "wert", "stichtag", "quelle_url")
TIDY_COLUMNS = ("key", "year", "indicator", "value")


def _check_field_counts(path: Path, text: str) -> None:
    """Raise :class:`InputError` unless every record has as many fields as the header.

    A shorter record is a file cut short or a lost separator (pandas would fill the missing fields with empty text
    and read on).
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return
    short = [(reader.line_num, len(rec)) for rec in reader if rec and len(rec) != len(header)]
    if short:
        line, n = short[0]
        raise InputError(f"{path}, line {line}: {n} field(s) where the header has {len(header)} "
                         f"({len(short)} such record(s); is the file cut short?)")


def _read_csv(path: Path, required: tuple[str, ...], *, ends_with_newline: bool = False) -> pd.DataFrame:
    """Read a UTF-8 CSV with every column as text; ``required`` names the columns it must have.

    ``ends_with_newline``: the file is published with a line break after its last record, so one that ends inside a
    record was cut short (an error naming the last line).
    """
    if not path.is_file():
        raise DataNotFoundError(f"{path}: file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: expected a UTF-8 CSV file, byte {exc.start} is not UTF-8") from exc
    _check_field_counts(path, text)
    if ends_with_newline and text and not text.endswith(("\n", "\r")):
        raise InputError(f"{path}, line {text.count(chr(10)) + 1}: the file ends inside a record (no line break after "
                         "the last one, as published): is it cut short?")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: malformed CSV: {exc}") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: unknown layout: missing columns {missing}; found {list(frame.columns)}"
        )
    return frame


def programme_tags(status: str) -> list[str]:
    """Return the programme tags named by a free-text status such as ``"WiN ...; LLQ Kleinst-/Sondergebiet"``."""
    return [tag for tag, pattern in PROGRAMME_PATTERNS if re.search(pattern, status)]


def read_designations(path: str | Path) -> pd.DataFrame:
    """Read the list of current funding areas, one row per area and district key.

    Returns
    -------
    pandas.DataFrame
        ``area``, ``city``, ``key`` (8-digit, or missing where the list names none), ``key_name``,
        ``programmes`` (";"-joined tags), ``status`` (the source's text), ``sources``, ``as_of``,
        ``confidence`` (``stated-in-source``, ``named-ortsteil``, ``scout-guess`` or ``unknown``).
    """
    path = Path(path)
    frame = _read_csv(path, DESIGNATION_COLUMNS, ends_with_newline=True)
    rows = []
    for lineno, rec in enumerate(frame.to_dict("records"), start=2):
        confidence = rec["hinweis_sicherheit"].strip() or "unknown"
        if confidence not in CONFIDENCE_ORDER:
            raise InputError(
                f"{path}, line {lineno}: confidence {confidence!r} is not one of {list(CONFIDENCE_ORDER)}"
            )
        keys = [k.strip() for k in rec["ortsteil_hinweis_keys"].split(";") if k.strip()]
        names = [n.strip() for n in rec["ortsteil_hinweis_namen"].split(";")]
        bad = [k for k in keys if not KEY_PATTERN.match(k)]
        if bad:
            raise InputError(f"{path}, line {lineno}: keys {bad} are not 8-digit district keys")
        tags = ";".join(programme_tags(rec["programm_status"]))
        base = {
            "area": rec["gebiet"].strip(),
            "city": rec["stadt"].strip(),
            "programmes": tags,
            "status": rec["programm_status"].strip(),
            "sources": rec["quellen_urls"].strip(),
            "as_of": rec["quelle_stand"].strip(),
            "confidence": confidence,
        }
        if not keys:
            rows.append({**base, "key": pd.NA, "key_name": rec["ortsteil_hinweis_namen"].strip()})
        for i, key in enumerate(keys):
            rows.append({**base, "key": key, "key_name": names[i] if i < len(names) else ""})
    out = pd.DataFrame(rows)
    out["key"] = out["key"].astype("string")
    return out


def read_social_indicators(path: str | Path) -> pd.DataFrame:
    """Read the transcribed social indicators (secondary sources) as tidy long rows.

    Rows without a district key (city-wide values) are kept with the city's 8-digit key (``04011000`` Bremen,
    ``04012000`` Bremerhaven); rows without a year are dropped and counted in ``attrs["dropped_no_year"]``.
    Indicator names get the prefix ``si_`` so they never collide with the pipeline's own indicators.
    """
    path = Path(path)
    frame = _read_csv(path, SOCIAL_COLUMNS, ends_with_newline=True)
    city_keys = {"Bremen": "04011000", "Bremerhaven": "04012000"}
    key = frame["gebiet_nr"].str.strip()
    key = key.where(key != "", frame["stadt"].map(city_keys).fillna(""))
    year = frame["stichtag"].str.slice(0, 4)
    value = pd.to_numeric(frame["wert"].str.replace(",", ".", regex=False), errors="coerce")
    keep = (year.str.match(r"^\d{4}$")) & key.str.match(KEY_PATTERN.pattern) & value.notna()
    out = pd.DataFrame(
        {
            "key": key[keep].astype("string"),
            "year": year[keep].astype(int),
            "indicator": ("si_" + frame.loc[keep, "indikator"].str.strip()).astype("string"),
            "value": value[keep],
            "source": frame.loc[keep, "quelle_url"].astype("string"),
            "file": (frame["datei"] if "datei" in frame.columns else pd.Series(path.name, index=frame.index))[keep],
            "line": (frame.index.to_series() + 2)[keep],  # line in the file read (header is line 1)
        }
    ).reset_index(drop=True)
    out.attrs["dropped_no_year"] = int((~year.str.match(r"^\d{4}$")).sum())
    out.attrs["dropped_other"] = int((~keep).sum()) - out.attrs["dropped_no_year"]
    return out


def read_tidy_indicators(path: str | Path) -> pd.DataFrame:
    """Read a user's own indicator table in tidy long form.

    Columns: ``key`` (8-digit), ``year``, ``indicator``, ``value`` and optionally ``numerator``,
    ``denominator``, ``source``. Every problem in the file is reported at once.
    """
    path = Path(path)
    frame = _read_csv(path, TIDY_COLUMNS)
    problems = []
    bad_keys = frame.index[~frame["key"].str.match(KEY_PATTERN.pattern)]
    if len(bad_keys):
        problems.append(f"{len(bad_keys)} keys are not 8-digit strings (first on line {bad_keys[0] + 2})")
    years = pd.to_numeric(frame["year"], errors="coerce")
    if years.isna().any():
        problems.append(f"column year is not a whole number on line {int(years.isna().idxmax()) + 2}")
    values = pd.to_numeric(frame["value"].str.replace(",", ".", regex=False), errors="coerce")
    bad_values = frame.index[values.isna() & (frame["value"].str.strip() != "")]
    if len(bad_values):
        problems.append(f"column value is not numeric on line {bad_values[0] + 2}")
    if not frame["indicator"].str.match(r"^[a-z][a-z0-9_]*$").all():
        problems.append("indicator names must be lower-case identifiers such as sgb2_rate_pct")
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems))
    out = pd.DataFrame(
        {
            "key": frame["key"].astype("string"),
            "year": years.astype(int),
            "indicator": frame["indicator"].astype("string"),
            "value": values,
        }
    )
    for col in ("numerator", "denominator"):
        out[col] = pd.to_numeric(frame[col], errors="coerce") if col in frame.columns else float("nan")
    out["source"] = frame["source"] if "source" in frame.columns else path.name
    out["file"] = path.name
    return out
