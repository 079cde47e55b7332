"""National indicators: long table (:data:`geo.pipeline.indicators.LONG_COLUMNS`) for Gemeinden, GVB, Kreise, Länder.

Counts are summed from Gemeinden upwards with :func:`geo.pipeline.indicators.aggregate_counts`, rates are computed from
the sums with :func:`geo.pipeline.indicators.rates_from_counts` and its
:class:`~geo.pipeline.indicators.SmallNumberRule`, never by
averaging rates. Published INKAR rates (SGB II, child poverty, ...) are copied with their INKAR code in
``source``. Every computation is local to one Land (Gemeindeverbände and Kreise never cross a Land border), so
:func:`compute_indicators` on the union of Länder equals the union of per-Land runs: the Dask engine relies on
this and a test checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from geo.pipeline import indicators as ind
from geo.pipeline.statistics_indicators import long_rows

LEVELS_UP = ("gemeindeverband", "kreis", "land")
PARENT_COLUMN = {"gemeindeverband": "gemeindeverband_key", "kreis": "kreis_key", "land": "land_key"}

#: INKAR codes with a readable name (unit in the name); every other INKAR code becomes ``inkar_<code>``
INKAR_NAMES = {
    "q_SGBII": "sgb2_rate_pct",
    "q_PBG_bev": "sgb2_persons_per_1000",
    "q_newfBGu15_bev": "child_poverty_pct",
    "a_GSa": "old_age_poverty_pct",
    "a_sMin": "minimum_income_benefits_pct",
    "q_asyl_bev": "asylum_benefits_per_1000",
    "a_HHwg": "housing_benefit_households_per_1000",
    "a_schul_oA": "school_leavers_without_qualification_pct",
    "q_bip_ew": "gdp_per_inhabitant_keur",
    "a_BGKind": "sgb2_households_with_children_pct",
    "a_ewfBG_allein": "sgb2_single_parents_pct",
}
#: INKAR tables kept whole, and further single INKAR codes kept, in the long table (the rest of the extract -
#: doctors, students, settlement structure - is context the classification does not use)
INKAR_KEEP_BEREICHE = frozenset({"sozialleistungen"})
INKAR_KEEP_CODES = frozenset({"q_bev_fl", "a_schul_oA", "a_schul_abi", "a_sch_a", "q_bip_ew", "a_betr0003_bev0003",
                              "a_betr0306_bev0306"})
#: Kreis series of the GISD inputs carried into the long table
GISD_KREIS_NAMES = {
    "Haushaltseinkommen": "household_income_eur_month",
    "Schuldnerquote": "debtor_rate_pct",
    "Bruttoverdienst": "gross_earnings_eur_month",
    "BeschaeftigtenquoteKreis": "employment_rate_pct",
    "BeschaeftigtemitakadAbschluss": "employees_academic_degree_pct",
    "BeschaeftigteohneAbschluss": "employees_without_vocational_degree_pct",
}

#: indicators shown in the wide national layers
MAIN_NATIONAL = [
    "population", "density_per_km2", "unemployment_share_pct", "unemployment_share_change_5y_pp",
    "sgb2_persons_per_1000", "child_poverty_pct", "sgb2_rate_pct", "income_tax_per_inhabitant_eur",
    "population_change_5y_pct", "gisd_score", "gisd_quintile",
]


def _register() -> None:
    """Add the national indicators to :data:`geo.pipeline.indicators.REGISTRY` (idempotent)."""
    extra = [
        ind.Indicator("unemployed", "persons", "Arbeitslose", "Registered unemployed (annual average)"),
        ind.Indicator("working_age_population", "persons", "Erwerbsfähige Bevölkerung (15 bis unter 65)",
                      "Population aged 15-64"),
        ind.Indicator("unemployment_share_pct", "%", "Arbeitslosenanteil an den 15- bis 64-Jährigen",
                      "Unemployed per 100 residents aged 15-64", "unemployed", "working_age_population", "rate"),
        ind.Indicator("unemployment_share_change_5y_pp", "pp", "Veränderung Arbeitslosenanteil (5 Jahre)",
                      "Change of the unemployment share (5 years)", kind="change"),
        ind.Indicator("income_tax_per_inhabitant_eur", "EUR", "Gemeindeanteil Einkommensteuer je Einwohner",
                      "Municipal income-tax share per inhabitant", kind="mean"),
        ind.Indicator("gisd_score", "score 0-1", "GISD (RKI, Bund)", "German Index of Socioeconomic Deprivation",
                      kind="mean"),
        # readable labels for the INKAR codes the screening and the national map use (units as in the names)
        ind.Indicator("sgb2_rate_pct", "%", "SGB-II-Quote", "SGB II rate", kind="published"),
        ind.Indicator("sgb2_persons_per_1000", "‰", "Personen in SGB-II-Bedarfsgemeinschaften je 1.000 Einw.",
                      "Persons in SGB II households per 1,000 residents", kind="published"),
        ind.Indicator("child_poverty_pct", "%", "Kinderarmut (SGB II, unter 15 Jahre)",
                      "Child poverty (SGB II, under 15)", kind="published"),
        ind.Indicator("gisd_quintile", "quintile", "GISD-Quintil", "GISD quintile (5 = most deprived)",
                      kind="mean"),
    ]
    for i in extra:
        ind.REGISTRY.setdefault(i.name, i)
    for code, name in INKAR_NAMES.items():
        ind.REGISTRY.setdefault(name, ind.Indicator(name, name.rsplit("_", 1)[-1], f"INKAR {code}",
                                                    f"INKAR {code}", kind="published"))
    for var, name in GISD_KREIS_NAMES.items():
        ind.REGISTRY.setdefault(name, ind.Indicator(name, name.rsplit("_", 1)[-1], var, var, kind="published"))


_register()


def inkar_name(code: str) -> str:
    """Readable indicator name of an INKAR code (``q_SGBII`` -> ``sgb2_rate_pct``, else ``inkar_<code>``)."""
    if code in INKAR_NAMES:
        return INKAR_NAMES[code]
    ascii_code = code.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return f"inkar_{ascii_code.strip('_')}"


@dataclass
class NationalInputs:
    """The tables the indicators are computed from (all on the territorial status 31.12.2022).

    ``gemeinden``: ``key``, ``gemeindeverband_key``, ``kreis_key``, ``land_key``, ``population``,
    ``area_km2_official``; ``inkar``: as :func:`~geo.national.sources.read_inkar`; ``gisd_inputs``: as
    :func:`~geo.national.sources.read_gisd_inputs`; ``gisd_release``: Kreis scores as
    :func:`~geo.national.sources.read_gisd_release`. ``population_year`` is the reference date's year.
    """

    gemeinden: pd.DataFrame
    inkar: pd.DataFrame
    gisd_inputs: pd.DataFrame
    gisd_release: pd.DataFrame
    population_year: int = 2022

    def for_lands(self, lands: Iterable[str]) -> NationalInputs:
        """The inputs of some Länder only (keys start with the Land code)."""
        lands = tuple(lands)

        def sub(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["key"].str.slice(0, 2).isin(lands)]

        return replace(self, gemeinden=sub(self.gemeinden), inkar=sub(self.inkar),
                       gisd_inputs=sub(self.gisd_inputs), gisd_release=sub(self.gisd_release))

    @property
    def lands(self) -> list[str]:
        """The two-digit keys of the Länder present in the inputs, sorted."""
        return sorted(self.gemeinden["land_key"].unique())


def _parents(gem: pd.DataFrame) -> dict[str, pd.Series]:
    g = gem.set_index("key")
    return {lvl: g[PARENT_COLUMN[lvl]] for lvl in LEVELS_UP}


def _counts_by_level(counts: pd.DataFrame, gem: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Gemeinde counts (index key, year) and their sums for every level above."""
    out = {"gemeinde": counts}
    for lvl, parent in _parents(gem).items():
        summed = ind.aggregate_counts(counts, parent)
        out[lvl] = summed[[c for c in summed.columns if not c.endswith("__flag")]]
    return out


def _population(inputs: NationalInputs, rule: ind.SmallNumberRule) -> list[pd.DataFrame]:
    gem = inputs.gemeinden
    counts = pd.DataFrame({"key": gem["key"], "year": inputs.population_year,
                           "population": gem["population"].astype(float),
                           "area_km2": gem["area_km2_official"].astype(float)}).set_index(["key", "year"])
    parts = []
    for lvl, frame in _counts_by_level(counts, gem).items():
        dens = ind.rates_from_counts(frame, rule=rule, names=["density_per_km2"])
        parts.append(long_rows(frame[["population"]], lvl, "VG250-EW 31.12.2022 (EWZ)"))
        parts.append(long_rows(dens, lvl, "VG250-EW 31.12.2022 (EWZ, KFL)"))
    return parts


def _unemployment(inputs: NationalInputs, rule: ind.SmallNumberRule) -> list[pd.DataFrame]:
    gi = inputs.gisd_inputs
    gem_keys = set(inputs.gemeinden["key"])
    sel = gi[(gi["level"] == "gemeinde") & gi["variable"].isin(["Arbeitslosigkeit", "ErwerbsfaehigeBevoelkerung"])
             & gi["key"].isin(gem_keys)]
    if sel.empty:
        return []
    wide = sel.pivot_table(index=["key", "year"], columns="variable", values="value", aggfunc="first")
    wide = wide.reindex(columns=["Arbeitslosigkeit", "ErwerbsfaehigeBevoelkerung"])
    counts = pd.DataFrame({"unemployed": wide["Arbeitslosigkeit"],
                           "working_age_population": wide["ErwerbsfaehigeBevoelkerung"]})
    counts = counts[counts["working_age_population"].notna()]  # 1998-2000: no Gemeinde denominator
    by_level = _counts_by_level(counts, inputs.gemeinden)
    # The BA withholds small Gemeinde counts, so a sum over Gemeinden is missing for many Kreise. Kreise take the
    # published Kreis counts (as the RKI does), Länder their sum; Gemeindeverbände stay sums of their Gemeinden.
    kreis = gi[(gi["level"] == "kreis") & gi["variable"].isin(["ArbeitslosigkeitKreis",
                                                                "ErwerbsfaehigeBevoelkerungKreis"])]
    sources = {lvl: "GISD inputs A_Arbeitslosigkeit, A_ErwerbsfaehigeBevoelkerung (Gemeinden)" for lvl in by_level}
    if len(kreis):
        kw = kreis.pivot_table(index=["key", "year"], columns="variable", values="value", aggfunc="first")
        kw = kw.reindex(columns=["ArbeitslosigkeitKreis", "ErwerbsfaehigeBevoelkerungKreis"])
        kc = pd.DataFrame({"unemployed": kw["ArbeitslosigkeitKreis"],
                           "working_age_population": kw["ErwerbsfaehigeBevoelkerungKreis"]})
        kc = kc[kc.index.get_level_values("year").isin(counts.index.get_level_values("year").unique())]
        kc = kc[kc.index.get_level_values("key").isin(set(inputs.gemeinden["kreis_key"]))]
        by_level["kreis"] = kc
        land = ind.aggregate_counts(kc, pd.Series({k: k[:2] for k in kc.index.get_level_values("key").unique()}))
        by_level["land"] = land[[c for c in land.columns if not c.endswith("__flag")]]
        sources["kreis"] = "GISD inputs A_ArbeitslosigkeitKreis, A_ErwerbsfaehigeBevoelkerungKreis"
        sources["land"] = sources["kreis"] + " (sum of Kreise)"
    parts = []
    for lvl, frame in by_level.items():
        rates = ind.rates_from_counts(frame, rule=rule, names=["unemployment_share_pct"])
        parts.append(long_rows(frame, lvl, sources[lvl]))
        parts.append(long_rows(rates, lvl, sources[lvl]))
        parts.append(long_rows(_change(rates["unemployment_share_pct"], "unemployment_share_change_5y_pp"), lvl,
                               sources[lvl] + "; 5-year difference"))
    return parts


def _change(rate: pd.Series, name: str, window: str = "5y") -> pd.DataFrame:
    """Difference of a rate against the nearest base year of ``window`` (percentage points)."""
    table = rate.unstack("year")
    years = sorted(table.columns)
    frames = []
    for year in years:
        base = ind.nearest_base_year(year, years, window)
        if base is None:
            continue
        f = pd.DataFrame(index=table.index)
        f[name] = table[year] - table[base]
        f[f"{name}__base_year"] = base
        f[f"{name}__flag"] = np.where(f[name].isna(), "missing_or_withheld_share", "")
        f["year"] = year
        frames.append(f.reset_index().set_index(["key", "year"]))
    return pd.concat(frames) if frames else pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []],
                                                                                         names=["key", "year"]))


def _population_change(inputs: NationalInputs, rule: ind.SmallNumberRule) -> list[pd.DataFrame]:
    """Population change over 5 years from INKAR density (``q_bev_fl``) x official area (one territorial status).

    An estimate: flagged ``derived_from_density``; withheld when the base population is under the index minimum
    (the implausible -71 % ... +600 % of tiny Gemeinden, see the INKAR provenance).
    """
    dens = inputs.inkar[inputs.inkar["kuerzel"] == "q_bev_fl"]
    area = inputs.gemeinden.set_index("key")["area_km2_official"]
    parts = []
    for lvl in ("gemeinde", *LEVELS_UP):
        sub = dens[dens["level"] == lvl]
        if sub.empty:
            continue
        if lvl == "gemeinde":
            lvl_area = area
        else:
            lvl_area = area.groupby(inputs.gemeinden.set_index("key")[PARENT_COLUMN[lvl]]).sum()
        table = sub.pivot_table(index="key", columns="year", values="value", aggfunc="first")
        pop = table.mul(lvl_area.reindex(table.index), axis=0)
        years = sorted(table.columns)
        frames = []
        for year in years:
            base = ind.nearest_base_year(year, years, "5y")
            if base is None:
                continue
            name = "population_change_5y_pct"
            diff = pop[year] - pop[base]
            f = pd.DataFrame(index=pop.index)
            f[name] = 100 * diff / pop[base]
            f[f"{name}__numerator"] = diff.round(0)
            f[f"{name}__denominator"] = pop[base].round(0)
            f[f"{name}__base_year"] = base
            small = pop[base] < rule.min_population_for_index
            f[f"{name}__flag"] = np.where(f[name].isna(), "missing_count",
                                          np.where(small, "withheld_small_numbers", "derived_from_density"))
            f.loc[small, name] = np.nan
            f["year"] = year
            frames.append(f.reset_index().set_index(["key", "year"]))
        if frames:
            parts.append(long_rows(pd.concat(frames), lvl, "INKAR q_bev_fl x VG250-EW KFL"))
    return parts


def _income_tax(inputs: NationalInputs) -> list[pd.DataFrame]:
    """The rows of the municipal income-tax share per inhabitant, on every level.

    Published per Gemeindeverband (E_Einkommensteuer up to 2019, the IRIS delivery for 2020-2022, as the RKI
    does); Gemeinden carry their GVB's value, Kreise and Länder the GVB values weighted by the 2022 population.
    """
    gi = inputs.gisd_inputs
    old = gi[(gi["variable"] == "Einkommensteuer") & (gi["year"] <= 2019)]
    new = gi[(gi["variable"] == "Einkommensteuer_IRIS") & (gi["year"] >= 2020)]
    tax = pd.concat([old, new])
    tax = tax[tax["level"] == "gemeindeverband"].pivot_table(index="key", columns="year", values="value",
                                                             aggfunc="first")
    if tax.empty:
        return []
    name = "income_tax_per_inhabitant_eur"
    gem = inputs.gemeinden.set_index("key")
    gvb_pop = gem.groupby("gemeindeverband_key")["population"].sum()
    tax = tax[tax.index.isin(gvb_pop.index)]
    parts = []

    def rows(table: pd.DataFrame, level: str, flag: str, source: str) -> pd.DataFrame:
        s = table.stack().rename(name)
        s.index = s.index.set_names(["key", "year"])
        f = s.to_frame()
        f[f"{name}__flag"] = flag
        return long_rows(f, level, source)

    src = "GISD inputs E_Einkommensteuer (-2019), IRIS_Einkommenssteuer (2020-)"
    parts.append(rows(tax, "gemeindeverband", "", src))
    gem_tax = tax.reindex(gem["gemeindeverband_key"].to_numpy())
    gem_tax.index = gem.index
    parts.append(rows(gem_tax.dropna(how="all"), "gemeinde", "gemeindeverband_value", src))
    gvb_parent = gem.drop_duplicates("gemeindeverband_key").set_index("gemeindeverband_key")
    for lvl in ("kreis", "land"):
        parent = gvb_parent[PARENT_COLUMN[lvl]].reindex(tax.index)
        w = gvb_pop.reindex(tax.index)
        num = tax.mul(w, axis=0).groupby(parent).sum(min_count=1)
        den = tax.notna().mul(w, axis=0).groupby(parent).sum()
        parts.append(rows(num / den.replace(0, np.nan), lvl, "population_weighted_2022", src))
    return parts


def _inkar(inputs: NationalInputs, codes: Iterable[str] | None) -> pd.DataFrame:
    k = inputs.inkar
    if codes is None:
        keep = k["bereich"].astype(str).isin(list(INKAR_KEEP_BEREICHE)) | k["kuerzel"].isin(list(INKAR_KEEP_CODES))
    else:
        keep = k["kuerzel"].isin(list(codes))
    k = k[keep]
    return pd.DataFrame({"key": k["key"].to_numpy(), "level": k["level"].to_numpy(), "year": k["year"].to_numpy(),
                         "indicator": k["kuerzel"].map(inkar_name).to_numpy(), "value": k["value"].to_numpy(),
                         "numerator": np.nan, "denominator": np.nan, "flag": "", "base_year": np.nan,
                         "source": ("INKAR 2024 " + k["kuerzel"].astype(str)).to_numpy()})


def _gisd_kreis(inputs: NationalInputs) -> list[pd.DataFrame]:
    gi = inputs.gisd_inputs
    sel = gi[(gi["level"] == "kreis") & gi["variable"].isin(list(GISD_KREIS_NAMES))]
    parts = []
    if len(sel):
        parts.append(pd.DataFrame({"key": sel["key"].to_numpy(), "level": "kreis", "year": sel["year"].to_numpy(),
                                   "indicator": sel["variable"].map(GISD_KREIS_NAMES).to_numpy(),
                                   "value": sel["value"].to_numpy(), "numerator": np.nan, "denominator": np.nan,
                                   "flag": "", "base_year": np.nan,
                                   "source": ("GISD inputs " + sel["source_file"].astype(str)).to_numpy()}))
    rel = inputs.gisd_release
    if len(rel):
        for col, name in (("gisd_score", "gisd_score"), ("gisd_5", "gisd_quintile")):
            parts.append(pd.DataFrame({"key": rel["key"].to_numpy(), "level": "kreis", "year": rel["year"].to_numpy(),
                                       "indicator": name, "value": rel[col].to_numpy(dtype=float),
                                       "numerator": np.nan, "denominator": np.nan, "flag": "", "base_year": np.nan,
                                       "source": "GISD release 2025 v1.0 (RKI), Bund frame"}))
    return parts


def compute_indicators(inputs: NationalInputs, *, rule: ind.SmallNumberRule | None = None,
                       inkar_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Every national indicator in long form, sorted by level, key, indicator and year.

    Parameters
    ----------
    inputs
        The national inputs (any subset of whole Länder).
    rule
        Small-number rule for computed rates.
    inkar_codes
        INKAR codes copied into the table; default the whole ``sozialleistungen`` table plus
        :data:`INKAR_KEEP_CODES`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`geo.pipeline.indicators.LONG_COLUMNS`; ``level`` is gemeinde, gemeindeverband, kreis or land.
    """
    rule = rule or ind.SmallNumberRule()
    parts = _population(inputs, rule) + _unemployment(inputs, rule) + _population_change(inputs, rule)
    parts += _income_tax(inputs) + _gisd_kreis(inputs) + [_inkar(inputs, inkar_codes)]
    long = pd.concat([p for p in parts if len(p)], ignore_index=True)[ind.LONG_COLUMNS]
    long["key"] = long["key"].astype(str)
    long["year"] = long["year"].astype(int)
    long["flag"] = long["flag"].fillna("").astype(str)
    return sort_long(long)


def sort_long(long: pd.DataFrame) -> pd.DataFrame:
    """The canonical order of a long table (so partitioned and in-memory runs compare equal)."""
    return long.sort_values(["level", "key", "indicator", "year", "source"], kind="stable").reset_index(drop=True)
