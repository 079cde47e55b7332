"""Plausibility checks of the national tables (VG250-EW, INKAR, GISD), the same rules as for Bremen's files.

Every check returns a list of :class:`~geo.errors.Problem` naming the file, the unit (level and key), the year,
the indicator and the value; an ``error`` stops the build, a ``warning`` is recorded in the manifest. The checks
are vectorised (the INKAR extract has 1.9 million rows). Readers (:mod:`geo.national.sources`) already check
key formats and duplicates; these checks look at the values.

==========================  ========  =============================================================================
check                       severity  rule
==========================  ========  =============================================================================
``national_whole_count``    error     residents (VG250-EW ``EWZ``) are whole numbers
``national_population``     error     no Gemeinde or Gemeindeverband above its Kreis; Germany's total within
                                      :data:`GERMANY_POPULATION` (the range since 1990, with room)
``national_value``          error     values are finite; counts are not negative (and whole); shares of a need
                                      indicator lie within 0-100 (per 1,000: 0-1,000); a GISD score within 0-1,
                                      its quintile 1-5 and decile 1-10
``national_value``          warning   the same bounds on INKAR and GISD series the need index does not use (as
                                      published by BBSR: e.g. ALG II per SGB II benefits up to 1,931 %)
``national_year``           error     years within :data:`FIRST_YEAR` ... current year + 1
``national_duplicate_row``  error     one GISD input row per (file, level, key, year)
``national_rate_jump``      warning   a need share of a Kreis moves more than :data:`MAX_JUMP_PP` points in a year
==========================  ========  =============================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo.errors import Problem

#: Germany's residents have stayed between 79.8 (1990) and 84.7 (2024) million; a total outside this range is an
#: unread or doubled table, not a population change
GERMANY_POPULATION = (70_000_000, 95_000_000)
#: the national series begin in 1995 (INKAR) and 1998 (GISD); earlier years are typos
FIRST_YEAR = 1990
#: a need share of a Kreis (100,000 residents and more, mostly) moving more than this many points in one year
MAX_JUMP_PP = 10.0
#: problems listed one by one per check and file; beyond this one summary line says how many more there are
MAX_LISTED = 20

#: INKAR codes the need index uses, with their bounds (unit in the INKAR name: "in %", "je 100", "je 1.000")
INKAR_NEED_BOUNDS: dict[str, tuple[float, float]] = {
    "q_SGBII": (0, 100), "q_newfBGu15_bev": (0, 100), "a_GSa": (0, 100), "a_sMin": (0, 100),
    "a_schul_oA": (0, 100), "a_BGKind": (0, 100), "a_ewfBG_allein": (0, 100),
    "q_PBG_bev": (0, 1000), "q_asyl_bev": (0, 1000), "a_HHwg": (0, 1000),
}
#: further INKAR codes kept in the long table: bounds checked as warnings (ratios to an age cohort or to benefits
#: of another kind do exceed 100 in the published extract)
INKAR_CONTEXT_BOUNDS: dict[str, tuple[float, float]] = {
    "a_schul_abi": (0, 100), "a_sch_a": (0, 100), "a_betr0003_bev0003": (0, 100), "a_betr0306_bev0306": (0, 100),
    "a_ALGII_SGBII": (0, 100), "a_Unterkunft_SGBII": (0, 100), "a_BG1P": (0, 100), "a_BG5um": (0, 100),
    "a_ewfBG": (0, 100), "a_ewfBG_f": (0, 100), "a_ewfBG_u25_": (0, 100), "a_ewfBG_55um_": (0, 100),
    "a_SGBII_f": (0, 100), "a_WGlastzu": (0, 100), "a_WGmietzu": (0, 100), "a_GSa_f": (0, 100),
    "a_GSa_m": (0, 100), "q_bev_fl": (0, np.inf), "q_bip_ew": (0, np.inf),
}
#: GISD input variables that are counts of persons (not negative; whole except the pre-2012 series, which RKI
#: carried over to today's Kreise of Sachsen-Anhalt and Mecklenburg-Vorpommern by shares) and shares (0-100,
#: warnings above)
GISD_WHOLE_COUNTS = frozenset({"Arbeitslosigkeit", "ErwerbsfaehigeBevoelkerung", "ArbeitslosigkeitKreis",
                               "ErwerbsfaehigeBevoelkerungKreis", "SVBeschaeftigte"})
GISD_COUNTS = GISD_WHOLE_COUNTS | {"BeschaeftigtemitakadAbschluss-pre2012", "BeschaeftigteohneAbschluss-pre2012"}
GISD_SHARES = frozenset({"Beschaeftigtenquote_gvb2022", "BeschaeftigtenquoteKreis", "BeschaeftigtemitakadAbschluss",
                         "BeschaeftigteohneAbschluss", "SchulabgaengerohneAbschluss", "Schuldnerquote"})
#: GISD release columns and their ranges
GISD_RELEASE_BOUNDS = {"gisd_score": (0.0, 1.0), "gisd_5": (1.0, 5.0), "gisd_10": (1.0, 10.0)}


def _capped(problems: list[Problem], check: str, file: str | None, what: str) -> list[Problem]:
    if len(problems) <= MAX_LISTED:
        return problems
    rest = len(problems) - MAX_LISTED
    return [*problems[:MAX_LISTED], Problem(check, f"... and {rest:,} more {what} like these", problems[0].severity,
                                            file=file, detail={"not_listed": rest})]


def _value_problems(rows: pd.DataFrame, bad: pd.Series, reason: str, *, file: str, column: str,
                    severity: str = "error") -> list[Problem]:
    """One problem per offending row (level, key, year, series and value named), capped per reason."""
    found = []
    for r in rows.loc[bad.to_numpy()].itertuples(index=False):
        where = f"{getattr(r, 'level', '')} {r.key} {int(r.year)} {getattr(r, column)}".strip()
        found.append(Problem("national_value", f"{where}: value {r.value:.12g} {reason}", severity, file=file,
                             key=str(r.key), detail={"series": str(getattr(r, column)), "year": int(r.year),
                                                     "value": float(r.value)}))
    return _capped(found, "national_value", file, f"values ({reason})")


def _bounded(rows: pd.DataFrame, column: str, bounds: Mapping[str, tuple[float, float]], *, file: str,
             severity: str) -> list[Problem]:
    part = rows[rows[column].isin(list(bounds))]
    if part.empty:
        return []
    low = part[column].map(lambda c: bounds[c][0]).to_numpy(float)
    high = part[column].map(lambda c: bounds[c][1]).to_numpy(float)
    value = part["value"].to_numpy(float)
    bad = pd.Series(np.isfinite(value) & ((value < low) | (value > high)), index=part.index)
    if not bad.any():
        return []
    problems: list[Problem] = []
    for code, sub in part[bad.to_numpy()].groupby(column):
        lo, hi = bounds[str(code)]
        if severity == "error":
            problems += _value_problems(sub, pd.Series(True, index=sub.index), f"lies outside {lo:g}-{hi:g}",
                                        file=file, column=column)
            continue
        worst = sub.loc[(sub["value"] - (lo + hi) / 2 if np.isfinite(hi) else sub["value"]).abs().idxmax()]
        problems.append(Problem("national_value", f"{code}: {len(sub):,} value(s) outside {lo:g}-{hi:g} as "
                                f"published (from {sub['value'].min():g} to {sub['value'].max():g}; e.g. "
                                f"{worst.get('level', '')} {worst['key']} {int(worst['year'])}: {worst['value']:g})",
                                "warning", file=file, detail={"series": str(code), "values": len(sub),
                                                              "min": float(sub["value"].min()),
                                                              "max": float(sub["value"].max())}))
    return problems


def check_finite(rows: pd.DataFrame, *, file: str, column: str) -> list[Problem]:
    """``national_value``: a present value is a finite number (``1e400`` reads as infinity)."""
    value = rows["value"].to_numpy(float)
    return _value_problems(rows, pd.Series(np.isinf(value), index=rows.index), "is not a finite number",
                           file=file, column=column)


def check_inkar_values(inkar: pd.DataFrame, file: str) -> list[Problem]:
    """The ``national_value`` problems of the INKAR extract.

    Need shares outside their bounds are errors, context series warnings.
    """
    return [*check_finite(inkar, file=file, column="kuerzel"),
            *_bounded(inkar, "kuerzel", INKAR_NEED_BOUNDS, file=file, severity="error"),
            *_bounded(inkar, "kuerzel", INKAR_CONTEXT_BOUNDS, file=file, severity="warning")]


def check_gisd_inputs(inputs: pd.DataFrame, file: str) -> list[Problem]:
    """The ``national_value`` and ``national_duplicate_row`` problems of the GISD inputs.

    Counts are whole and not negative, shares within 0-100 (a warning above: the published Beschäftigtenquote
    reaches 102 in small Gemeinden), one row per (variable, level, key, year).
    """
    value = inputs["value"].to_numpy(float)
    counts = inputs["variable"].isin(GISD_COUNTS).to_numpy()
    problems = check_finite(inputs, file=file, column="variable")
    problems += _value_problems(inputs, pd.Series(counts & (value < 0), index=inputs.index),
                                "is a negative count", file=file, column="variable")
    whole = inputs["variable"].isin(GISD_WHOLE_COUNTS).to_numpy()
    problems += _value_problems(inputs, pd.Series(whole & np.isfinite(value) & (value != np.round(value)),
                                                  index=inputs.index),
                                "is a count with a fraction", file=file, column="variable")
    shares = {v: (0.0, 100.0) for v in GISD_SHARES}
    problems += _bounded(inputs, "variable", shares, file=file, severity="warning")
    dup = inputs.duplicated(["variable", "level", "key", "year"], keep="first")
    if dup.any():
        r = inputs[dup.to_numpy()].iloc[0]
        problems.append(Problem("national_duplicate_row", f"{int(dup.sum())} duplicate (variable, level, key, year) "
                                f"row(s), e.g. {r['variable']} {r['level']} {r['key']} {int(r['year'])}", file=file,
                                key=str(r["key"]), detail={"duplicates": int(dup.sum())}))
    return problems


def check_gisd_release(release: pd.DataFrame, file: str) -> list[Problem]:
    """``national_value`` on the GISD release: score within 0-1, quintile 1-5, decile 1-10 (errors)."""
    if release.empty:
        return []
    long = release.melt(id_vars=["key", "year"], value_vars=list(GISD_RELEASE_BOUNDS), var_name="column")
    long = long[long["value"].notna()]
    return [*check_finite(long, file=file, column="column"),
            *_bounded(long, "column", GISD_RELEASE_BOUNDS, file=file, severity="error")]


def check_years(rows: pd.DataFrame, file: str, *, today: dt.date | None = None) -> list[Problem]:
    """``national_year``: every year lies within :data:`FIRST_YEAR` ... current year + 1 (one error per year)."""
    last = (today or dt.date.today()).year + 1
    years = pd.Series(rows["year"].unique())
    bad = years[(years < FIRST_YEAR) | (years > last)]
    return [Problem("national_year", f"year {int(y)} ({int((rows['year'] == y).sum()):,} row(s)) lies outside "
                    f"{FIRST_YEAR}-{last}", file=file, detail={"year": int(y)}) for y in sorted(bad)]


def check_population(attrs: Mapping[str, pd.DataFrame], files: Mapping[str, str]) -> list[Problem]:
    """``national_whole_count`` and ``national_population`` on the VG250-EW residents."""
    problems: list[Problem] = []
    for level, frame in attrs.items():
        pop = frame["population"].to_numpy(float)
        for k, v in zip(frame.loc[pop != np.round(pop), "key"].head(MAX_LISTED), pop[pop != np.round(pop)],
                        strict=False):
            problems.append(Problem("national_whole_count", f"{level} {k}: EWZ {v:.12g} is not a whole number of "
                                    "residents", file=files.get(level), key=str(k), detail={"value": float(v)}))
    kreis = attrs["kreis"].set_index("key")["population"]
    for level in ("gemeinde", "gemeindeverband"):
        frame = attrs[level]
        parent = frame["key"].str.slice(0, 5).map(kreis)
        above = frame[(frame["population"] > parent).to_numpy()]
        problems += _capped([Problem("national_population", f"{level} {r.key} ({r.name}): {r.population:,.0f} "
                                     f"residents, more than its Kreis {r.key[:5]} ({kreis[r.key[:5]]:,.0f})",
                                     file=files.get(level), key=str(r.key))
                             for r in above.itertuples(index=False)], "national_population", files.get(level),
                            "units above their Kreis")
    total = float(kreis.sum())
    low, high = GERMANY_POPULATION
    if not low <= total <= high:
        problems.append(Problem("national_population", f"the Kreise sum to {total:,.0f} residents, outside the "
                                f"plausible {low:,}-{high:,} for Germany (a table read twice or cut short?)",
                                file=files.get("kreis"), detail={"total": total}))
    return problems


def check_rate_jumps(inkar: pd.DataFrame, file: str, *, max_pp: float = MAX_JUMP_PP) -> list[Problem]:
    """The ``national_rate_jump`` warnings: need shares of a Kreis that jump between two years.

    A need share (0-100) of a Kreis that moves more than ``max_pp`` points between two consecutive years is a
    warning with both figures.
    """
    codes = [c for c, (_, hi) in INKAR_NEED_BOUNDS.items() if hi == 100]
    part = inkar[(inkar["level"] == "kreis") & inkar["kuerzel"].isin(codes) & inkar["value"].notna()]
    part = part.sort_values(["kuerzel", "key", "year"])
    same = (part["kuerzel"].eq(part["kuerzel"].shift()) & part["key"].eq(part["key"].shift())
            & part["year"].sub(part["year"].shift()).eq(1))
    diff = part["value"] - part["value"].shift()
    jump = part[(same & diff.abs().gt(max_pp)).to_numpy()]
    before = part["value"].shift()[jump.index]
    found = [Problem("national_rate_jump", f"kreis {r.key} {r.kuerzel}: {b:g} ({r.year - 1}) -> {r.value:g} "
                     f"({r.year}), {r.value - b:+.1f} points in one year (more than {max_pp:g})", "warning",
                     file=file, key=str(r.key), detail={"series": str(r.kuerzel), "year": int(r.year),
                                                        "from": float(b), "to": float(r.value)})
             for r, b in zip(jump.itertuples(index=False), before, strict=True)]
    return _capped(found, "national_rate_jump", file, "jumps")


def check_national(inkar: pd.DataFrame, gisd_inputs: pd.DataFrame, gisd_release: pd.DataFrame,
                   attrs: Mapping[str, pd.DataFrame], files: Mapping[str, str]) -> list[Problem]:
    """The problems of every national plausibility check.

    ``files`` names the file of each table (``inkar``, ``gisd_inputs``, ``gisd_kreis``, and the VG250-EW level
    names).
    """
    return [*check_population(attrs, files),
            *check_years(inkar, files["inkar"]), *check_inkar_values(inkar, files["inkar"]),
            *check_rate_jumps(inkar, files["inkar"]),
            *check_years(gisd_inputs, files["gisd_inputs"]), *check_gisd_inputs(gisd_inputs, files["gisd_inputs"]),
            *(check_years(gisd_release, files["gisd_kreis"]) if len(gisd_release) else []),
            *check_gisd_release(gisd_release, files["gisd_kreis"])]


__all__ = ["check_finite", "check_gisd_inputs", "check_gisd_release", "check_inkar_values", "check_national",
           "check_population", "check_rate_jumps", "check_years"]
