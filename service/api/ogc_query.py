"""Query parameters of the OGC API (Features Core, CRS, Filtering), checked to the letter, framework-free.

Every operation names the parameters it knows (:data:`PARAMETERS`); any other parameter, a repeated one or a
malformed value is an :class:`~geo.errors.InputError` (400) naming it. ``limit`` above :data:`MAX_LIMIT` is
clamped (OGC API Features Core permits it; scripts asking for 5,000 get pages of 1,000 and a ``next`` link).
``datetime`` is an RFC 3339 date or date-time, or an interval of two (``..`` or empty for an open end).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from geo.errors import InputError, Problem

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
ITEMS = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang",
                   "filter-crs"})
#: accepted and ignored by the collection document: GDAL 3.6's OAPIF driver repeats the query of the URL it is
#: given (``OAPIF:.../collections/ortsteile?crs=...``) on every request, the collection's included
PASSED_ON = frozenset({"crs", "datetime", "filter", "filter-lang", "filter-crs"})
#: operation -> query parameters it accepts
PARAMETERS: dict[str, frozenset[str]] = {
    "landing": frozenset({"f"}), "conformance": frozenset({"f"}), "api": frozenset({"f"}),
    "collections": frozenset({"f"}), "collection": frozenset({"f"}) | PASSED_ON, "queryables": frozenset({"f"}),
    "items": ITEMS, "item": frozenset({"f", "crs"}),
}
#: values of ``f`` (only JSON is served)
FORMATS = {"json", "geojson"}


def _bad(name: str, raw: object, message: str) -> InputError:
    return InputError(message, problems=[Problem(check="parameter", message=f"{name}={raw}")])


def check_parameters(names: Iterable[str], operation: str, *, repeated: Iterable[str] = (),
                     f: str | None = None) -> None:
    """400 for a parameter ``operation`` does not know, one given twice, or an ``f`` other than JSON."""
    known = PARAMETERS[operation]
    unknown = sorted(set(names) - known)
    if unknown:
        raise InputError(f"unknown query parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; this "
                         f"operation accepts: {', '.join(sorted(known))}",
                         problems=[Problem(check="parameter", message=n) for n in unknown])
    twice = sorted(set(repeated))
    if twice:
        raise InputError(f"query parameter {', '.join(twice)} given more than once, with different values",
                         problems=[Problem(check="parameter", message=n) for n in twice])
    if f is not None and f not in FORMATS:
        raise _bad("f", f, f"f={f!r} is not offered; the only format is JSON (f=json)")


def int_param(args: Mapping[str, str], name: str, default: int, lo: int, hi: int | None = None,
              *, clamp: bool = False) -> int:
    """An integer parameter in ``lo..hi``; above ``hi`` it is clamped when ``clamp``, else a 400."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, raw, f"{name} must be an integer, got {raw!r}") from None
    if hi is not None and value > hi and clamp:
        return hi
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise _bad(name, value, f"{name} must be in {rng}, got {value}")
    return value


def limit_offset(args: Mapping[str, str]) -> tuple[int, int]:
    """``limit`` (1.., clamped to :data:`MAX_LIMIT`) and ``offset`` (0..)."""
    return (int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT, clamp=True),
            int_param(args, "offset", 0, 0, None))


# ------------------------------------------------------------------------------------------------ datetime

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
_INSTANT = re.compile(rf"{_DATE}({_TIME})?")
NS_PER_DAY = 86_400 * 10**9
#: a time range in integer nanoseconds since 1970 (UTC), both ends inclusive
Range = tuple[int, int]
OPEN = (np.iinfo(np.int64).min, np.iinfo(np.int64).max)


def _instant(text: str, raw: str) -> Range:
    """An RFC 3339 date (the whole day) or date-time (that instant) as a range."""
    if not _INSTANT.fullmatch(text):
        raise _bad("datetime", raw, f"datetime {raw!r} is not an RFC 3339 date (2023-12-31), date-time "
                                    "(2023-12-31T12:00:00Z) or interval of them (2020-01-01/2023-12-31, "
                                    "../2023-12-31, 2020-01-01/..)")
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = int((day - dt.date(1970, 1, 1)).days) * NS_PER_DAY
            return start, start + NS_PER_DAY - 1
        moment = dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad("datetime", raw, f"datetime {raw!r}: {exc}") from None
    ns = int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
    return ns, ns


def parse_datetime(raw: str | None) -> Range | None:
    """The ``datetime`` parameter as an inclusive nanosecond range (``None``: not given)."""
    if raw is None or raw == "":
        return None
    if "/" not in raw:
        return _instant(raw, raw)
    parts = raw.split("/")
    if len(parts) != 2:
        raise _bad("datetime", raw, f"datetime {raw!r}: an interval has exactly one '/'")
    start = OPEN[0] if parts[0] in ("", "..") else _instant(parts[0], raw)[0]
    end = OPEN[1] if parts[1] in ("", "..") else _instant(parts[1], raw)[1]
    if start > end:
        raise _bad("datetime", raw, f"datetime {raw!r}: the interval ends before it starts")
    return start, end


def day_ranges(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive nanosecond ranges of ``datetime64[D]`` days (NaT: an empty range)."""
    start = days.astype("datetime64[ns]").astype(np.int64)
    end = start + (NS_PER_DAY - 1)
    missing = np.isnat(days)
    start[missing], end[missing] = OPEN[1], OPEN[0]
    return start, end


@dataclass(frozen=True)
class Temporal:
    """The temporal extent of a collection: each feature's reference date (``datetime64[D]``, NaT: none)."""

    days: np.ndarray

    def matches(self, query: Range) -> np.ndarray:
        """Per feature, whether its date overlaps the nanosecond range ``query`` (NaT never does)."""
        start, end = day_ranges(self.days)
        return (start <= query[1]) & (end >= query[0])

    def interval(self) -> list[str | None] | None:
        """The extent as ``[first, last]`` RFC 3339 times (whole days), or None when no feature has a date."""
        ok = self.days[~np.isnat(self.days)]
        if not len(ok):
            return None
        return [f"{ok.min()}T00:00:00Z", f"{ok.max()}T23:59:59Z"]
