"""Replication of the RKI German Index of Socioeconomic Deprivation (GISD), release 2025 v1.0.

The method, as published in the RKI repository (``Kontextmaterialien/Syntax/GISD_Generate_Release.R``, Readme
"Indexbildung"; Michalski et al. 2022, J Health Monit 7(S5)):

1. **Work file**: one row per Gemeinde (status 31.12.2022, residents > 0) and year 1998-2021 with nine
   indicators in three domains - employment (unemployment, employment rate, gross earnings), income (municipal
   income tax, household income, debtor quota) and education (employees with academic degree, employees without
   vocational degree, school leavers without qualification). Kreis and Gemeindeverband series are copied to
   their Gemeinden; 1998-2000 use the Kreis unemployment.
2. **Corrections**: incomes deflated by the consumer price index and logged; school leavers corrected for the
   G8/G9 reforms, employees without degree for an East/West level shift and both employee series for the change
   of measurement in 2012 (each a linear regression whose dummy coefficient is subtracted).
3. **Imputation**: missing values predicted from ``year^2 x mean_i`` and ``year x mean_i`` (``mean_i`` = the
   Gemeinde's time-series mean), negative predictions set to 0.
4. **Weights**: one principal component per domain (centred and scaled, fitted on the last 20 years), signed so
   that it correlates positively with unemployment; the loadings are the weights.
5. **Score**: per year each domain score is min-max normalised, the three are summed and normalised again.
6. **Aggregation**: population-weighted means per Kreis (2022 population), normalised per year; quintiles with
   R's quantile type 9 (``gisd_5``, 5 = most deprived).

Known departure (an input that is not in the data collection): the Gemeinde-level employment rate of release
2025 (``A_Beschaeftigtenquote.xls``) is replaced by the Gemeindeverband series of release 2022 (2001-2019, mapped
to the 2022 Verbände by :func:`inkar2022_gvb_code`, 95 % of them), carried to 2020-2021 with the Kreis trend, and
by the Kreis series where no Verband value exists. The RKI's hand-picked outlier smoothing (script part VI) is
repeated by :func:`smooth_outliers`.

Public API: :func:`build_workfile`, :class:`GisdModel` (``fit``/``transform``), :func:`aggregate`,
:func:`gisd_from_inputs`, :func:`compare_with_release`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

LATEST_YEAR = 2021
FIRST_YEAR = 1998
DOMAINS: dict[str, tuple[str, ...]] = {
    "employment": ("Arbeitslosigkeit", "Beschaeftigtenquote", "Bruttoverdienst_ln"),
    "income": ("Einkommensteuer_ln", "Haushaltseinkommen_ln", "Schuldnerquote"),
    "education": ("BeschaeftigtemitakadAbschluss_adj", "BeschaeftigteohneAbschluss_adj",
                  "SchulabgaengerohneAbschluss_adj"),
}
DETERMINANTS = tuple(v for vs in DOMAINS.values() for v in vs)
#: consumer price index (2015 = 100), 1998-2021, as in the RKI script (Destatis, lange Reihen)
CPI = dict(zip(range(1998, 2022), [78.3, 78.8, 79.9, 81.5, 82.6, 83.5, 84.9, 86.2, 87.6, 89.6, 91.9, 92.2, 93.2,
                                   95.2, 97.1, 98.5, 99.5, 100.0, 100.5, 102.0, 103.8, 105.3, 105.8, 109.1],
               strict=True))
#: year of the G8 school reform's double cohort per Land code (RKI script)
G8_YEAR = {"01": 2016, "02": 2010, "03": 2011, "04": 2012, "05": 2013, "06": 2013, "08": 2012, "09": 2011,
           "10": 2009, "11": 2012, "12": 2012, "13": 2008, "15": 2007}


# ---------------------------------------------------------------------------------------------------------
# 1. work file
# ---------------------------------------------------------------------------------------------------------
def _series(inputs: pd.DataFrame, variable: str, level: str) -> pd.Series:
    sel = inputs[(inputs["variable"] == variable) & (inputs["level"] == level)]
    return sel.drop_duplicates(["key", "year"]).set_index(["key", "year"])["value"]


def inkar2022_gvb_code(ars9: pd.Series) -> pd.Series:
    """The 8-digit INKAR Gemeindeverband code (release 2022) of a 9-digit ARS.

    By two structural rules: a Verband ``LLRKK5xyz`` is ``LLRKK9yz``; any other unit drops the Verband's first digit.
    """
    verband = ars9.str.slice(5, 6) == "5"
    return (ars9.str.slice(0, 5) + "9" + ars9.str.slice(7, 9)).where(verband,
                                                                       ars9.str.slice(0, 5) + ars9.str.slice(6, 9))


def _employment_rate_gvb(wf: pd.DataFrame, inputs: pd.DataFrame, kreis: np.ndarray) -> np.ndarray:
    """Employment rate of the Gemeinde's Verband (2001-2019, INKAR release 2022 codes), else the Kreis rate.

    2020 and later: the Verband's 2019 ratio to its Kreis times the Kreis rate; before 2001: the Kreis rate
    (as the RKI does). Units whose code did not survive the territorial changes keep the Kreis rate.
    """
    series = _series(inputs, "Beschaeftigtenquote_gvb2022", "gemeindeverband_inkar2022")
    if series.empty:
        return kreis
    code = inkar2022_gvb_code(wf["gemeindeverband_key"])
    gvb = series.reindex(pd.MultiIndex.from_arrays([code, wf["year"]])).to_numpy(dtype=float)
    year = wf["year"].to_numpy()
    last_year = int(series.index.get_level_values("year").max())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = pd.Series(np.where(year == last_year, gvb / kreis, np.nan)).groupby(wf["key"].to_numpy()).transform(
            "max").to_numpy()
    has = np.isfinite(ratio)
    out = np.where(np.isfinite(gvb), gvb, np.nan)
    out = np.where((year > last_year) & has, kreis * ratio, out)
    out = np.where(year < 2001, kreis, out)
    return np.where(has & np.isfinite(out), out, kreis)


def build_workfile(gemeinden: pd.DataFrame, inputs: pd.DataFrame, *, latest_year: int = LATEST_YEAR,
                   first_year: int = FIRST_YEAR, employment_rate: str = "gvb") -> pd.DataFrame:
    """The RKI work file: one row per Gemeinde and year with the raw indicators.

    Parameters
    ----------
    gemeinden
        ``key`` (8 digits), ``gemeindeverband_key`` (9), ``kreis_key`` (5), ``population`` (weights).
    inputs
        Long GISD inputs as :func:`geo.national.sources.read_gisd_inputs` returns them (``variable``, ``level``,
        ``key``, ``year``, ``value``).
    employment_rate
        ``"gvb"``: the Verband series of INKAR release 2022 where its code maps (see
        :func:`inkar2022_gvb_code`), else the Kreis series; ``"kreis"``: the Kreis series throughout.
    """
    gem = gemeinden[gemeinden["population"] > 0][["key", "gemeindeverband_key", "kreis_key", "population"]]
    years = np.arange(first_year, latest_year + 1)
    wf = pd.DataFrame({"key": np.repeat(gem["key"].to_numpy(), len(years)),
                       "year": np.tile(years, len(gem))})
    wf = wf.merge(gem, on="key", how="left")
    wf["land_key"] = wf["key"].str.slice(0, 2)

    def at(series: pd.Series, key_col: str) -> np.ndarray:
        idx = pd.MultiIndex.from_arrays([wf[key_col], wf["year"]])
        return series.reindex(idx).to_numpy(dtype=float)

    al = at(_series(inputs, "Arbeitslosigkeit", "gemeinde"), "key")
    eb = at(_series(inputs, "ErwerbsfaehigeBevoelkerung", "gemeinde"), "key")
    alk = at(_series(inputs, "ArbeitslosigkeitKreis", "kreis"), "kreis_key")
    ebk = at(_series(inputs, "ErwerbsfaehigeBevoelkerungKreis", "kreis"), "kreis_key")
    early = wf["year"].to_numpy() < 2001
    al = np.where(early, alk, al)
    eb = np.where(early, ebk, eb)
    with np.errstate(divide="ignore", invalid="ignore"):
        unemp = al / eb * 1000
        # as published: a share >= 1 (per mille scale) is replaced by the Kreis share (unscaled) - in effect the
        # Kreis share for nearly every Gemeinde; 0 where the working-age population is 0
        unemp = np.where(unemp >= 1, alk / ebk, unemp)
    unemp = np.where(eb == 0, 0.0, unemp)
    wf["Arbeitslosigkeit"] = unemp
    bq = at(_series(inputs, "BeschaeftigtenquoteKreis", "kreis"), "kreis_key")
    if employment_rate == "gvb":
        bq = _employment_rate_gvb(wf, inputs, bq)
    wf["Beschaeftigtenquote"] = np.minimum(bq, 80.0)
    tax = _series(inputs, "Einkommensteuer", "gemeindeverband")
    tax = tax[tax.index.get_level_values("year") <= 2019]
    iris = _series(inputs, "Einkommensteuer_IRIS", "gemeindeverband")
    iris = iris[iris.index.get_level_values("year").isin([2020, 2021])]
    wf["Einkommensteuer"] = at(pd.concat([tax, iris]), "gemeindeverband_key")
    for var in ("Bruttoverdienst", "Haushaltseinkommen", "Schuldnerquote", "SchulabgaengerohneAbschluss"):
        wf[var] = at(_series(inputs, var, "kreis"), "kreis_key")
    sv = at(_series(inputs, "SVBeschaeftigte", "kreis"), "kreis_key")
    for var in ("BeschaeftigtemitakadAbschluss", "BeschaeftigteohneAbschluss"):
        post = at(_series(inputs, var, "kreis"), "kreis_key")
        with np.errstate(divide="ignore", invalid="ignore"):
            pre = at(_series(inputs, f"{var}-pre2012", "kreis"), "kreis_key") / sv * 100  # counts -> %
        wf[var] = np.where(wf["year"].to_numpy() <= 2011, pre, post)
    return wf.sort_values(["key", "year"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# 2. corrections
# ---------------------------------------------------------------------------------------------------------
def _ols(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of ``y ~ 1 + x`` on complete rows (R's ``lm`` with ``na.exclude``)."""
    design = np.column_stack([np.ones(len(y)), x])
    ok = np.isfinite(y) & np.isfinite(design).all(axis=1)
    coef, *_ = np.linalg.lstsq(design[ok], y[ok], rcond=None)
    # a regressor without variation on the complete rows has no estimable coefficient (R: NA)
    for j in range(1, design.shape[1]):
        if np.ptp(design[ok, j]) == 0:
            coef[j] = np.nan
    return coef


def _trend_terms(wf: pd.DataFrame, values: np.ndarray, *, by_unit: bool = True) -> np.ndarray:
    mean = (pd.Series(values).groupby(wf["key"].to_numpy()).transform("mean").to_numpy() if by_unit
            else np.full(len(values), np.nanmean(values)))
    year = wf["year"].to_numpy(dtype=float)
    return np.column_stack([year * year * mean, year * mean])


def correct(wf: pd.DataFrame) -> pd.DataFrame:
    """CPI and logs, G8/G9 reform effects, East/West shift, change of measurement 2012 (RKI script, part III)."""
    wf = wf.copy()
    cpi = wf["year"].map(CPI).to_numpy(dtype=float)
    for var in ("Haushaltseinkommen", "Bruttoverdienst", "Einkommensteuer"):
        wf[var] = wf[var] / cpi * 100
    with np.errstate(divide="ignore", invalid="ignore"):
        wf["Bruttoverdienst_ln"] = np.log(wf["Bruttoverdienst"])
        wf["Haushaltseinkommen_ln"] = np.log(wf["Haushaltseinkommen"])
        tax = wf["Einkommensteuer"].to_numpy()
        ln = np.where(tax == 0, 0.75, np.log(np.where(tax > 0, tax, np.nan)))
        wf["Einkommensteuer_ln"] = np.where(tax < 0, 0.25, ln)
    year = wf["year"].to_numpy()
    land = wf["land_key"].to_numpy()
    g8 = np.array([G8_YEAR.get(lk) == y for lk, y in zip(land, year, strict=True)], dtype=float)
    g9 = ((land == "08") & (year == 2020)).astype(float)
    sn_ka = ((land == "15") & (year == 2001)).astype(float)
    th = ((land == "16") & (year < 2004)).astype(float)
    y = wf["SchulabgaengerohneAbschluss"].to_numpy(dtype=float)
    dummies = np.column_stack([g8, g9, sn_ka, th])
    coef = _ols(y, np.column_stack([_trend_terms(wf, y), dummies]))
    adj = y.copy()
    for j in range(4):
        c = coef[3 + j]
        adj = np.where(dummies[:, j] == 1, adj - c, adj)
    wf["SchulabgaengerohneAbschluss_adj"] = adj
    # East/West: saturated year x east model, reference year 2012 -> coefficient of "east" = east-west gap in 2012
    ow = (wf["kreis_key"].astype(int) >= 11000).to_numpy()
    y = wf["BeschaeftigteohneAbschluss"].to_numpy(dtype=float)
    ref = (year == 2012) & np.isfinite(y)
    gap = np.nanmean(y[ref & ow]) - np.nanmean(y[ref & ~ow]) if (ref & ow).any() and (ref & ~ow).any() else 0.0
    wf["BeschaeftigteohneAbschluss_adj"] = np.where(ow, y - gap, y)
    # change of measurement: 2012 takes the 2013 value, then a dummy for the years before 2012
    wf = wf.sort_values(["key", "year"]).reset_index(drop=True)
    for src, dst in (("BeschaeftigteohneAbschluss_adj", "BeschaeftigteohneAbschluss_adj"),
                     ("BeschaeftigtemitakadAbschluss", "BeschaeftigtemitakadAbschluss_adj")):
        lead = wf.groupby("key")[src].shift(-1).to_numpy()
        vals = np.where(wf["year"].to_numpy() == 2012, lead, wf[src].to_numpy())
        before = (wf["year"].to_numpy() < 2012).astype(float)
        coef = _ols(vals, np.column_stack([_trend_terms(wf, vals, by_unit=False), before]))
        wf[dst] = np.where(before == 1, vals - coef[3], vals)
    return wf


# ---------------------------------------------------------------------------------------------------------
# 3. imputation
# ---------------------------------------------------------------------------------------------------------
def impute(wf: pd.DataFrame, columns: tuple[str, ...] = DETERMINANTS) -> pd.DataFrame:
    """Regression imputation of every determinant from ``year^2 x mean_i`` and ``year x mean_i``."""
    wf = wf.copy()
    for col in columns:
        y = wf[col].to_numpy(dtype=float)
        terms = _trend_terms(wf, np.where(np.isfinite(y), y, np.nan))
        coef = _ols(y, terms)
        pred = coef[0] + terms @ np.nan_to_num(coef[1:])
        out = np.where(np.isfinite(y), y, pred)
        wf[col] = np.where(out < 0, 0.0, out)
    return wf


# ---------------------------------------------------------------------------------------------------------
# 4.-5. principal components per domain, score
# ---------------------------------------------------------------------------------------------------------
def rescale(values: np.ndarray) -> np.ndarray:
    """Min-max normalisation to [0, 1] (R ``scales::rescale``): NaN stays NaN, constant input gives 0.5."""
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return np.full_like(values, np.nan)
    lo, hi = np.nanmin(values), np.nanmax(values)
    if hi == lo:
        return np.where(np.isnan(values), np.nan, 0.5)
    return (values - lo) / (hi - lo)


@dataclass
class GisdModel:
    """Principal-component weights per domain (scikit-learn convention: learned attributes end in ``_``).

    Parameters
    ----------
    domains
        Domain name -> indicator columns.
    fit_years
        Number of latest years the components are fitted on (RKI: 20).
    """

    domains: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DOMAINS))
    fit_years: int = 20

    def fit(self, wf: pd.DataFrame, *, sign_column: str = "Arbeitslosigkeit") -> GisdModel:
        """Fit one component per domain on the latest ``fit_years`` years, rising with ``sign_column``."""
        from sklearn.decomposition import PCA

        latest = int(wf["year"].max())
        sel = wf[wf["year"] > latest - self.fit_years]
        self.center_: dict[str, np.ndarray] = {}
        self.scale_: dict[str, np.ndarray] = {}
        self.loadings_: dict[str, np.ndarray] = {}
        self.explained_variance_ratio_: dict[str, float] = {}
        for name, cols in self.domains.items():
            x = sel[list(cols)].to_numpy(dtype=float)
            if not np.isfinite(x).all():
                raise ValueError(f"domain {name}: missing values remain after imputation")
            center, scale = x.mean(axis=0), x.std(axis=0, ddof=1)
            scale = np.where(scale > 0, scale, 1.0)
            pca = PCA(n_components=1).fit((x - center) / scale)
            self.center_[name], self.scale_[name] = center, scale
            self.loadings_[name] = pca.components_[0]
            self.explained_variance_ratio_[name] = float(pca.explained_variance_ratio_[0])
        raw = self._raw(wf)
        sign = wf[sign_column].to_numpy(dtype=float)
        for name in self.domains:
            if np.corrcoef(sign, raw[name])[0, 1] < 0:
                self.loadings_[name] = -self.loadings_[name]
        return self

    def _raw(self, wf: pd.DataFrame) -> dict[str, np.ndarray]:
        return {name: ((wf[list(cols)].to_numpy(dtype=float) - self.center_[name]) / self.scale_[name])
                @ self.loadings_[name] for name, cols in self.domains.items()}

    def transform(self, wf: pd.DataFrame) -> pd.DataFrame:
        """Domain scores (raw and normalised per year) and ``gisd_score`` per row of ``wf``."""
        raw = self._raw(wf)
        out = wf[["key", "year", "kreis_key", "gemeindeverband_key", "population"]].copy()
        for name, vals in raw.items():
            out[f"{name}_raw"] = vals
        years = out["year"].to_numpy()
        total = np.zeros(len(out))
        norm = {}
        for name in self.domains:
            col = np.empty(len(out))
            for y in np.unique(years):
                m = years == y
                col[m] = rescale(out.loc[m, f"{name}_raw"].to_numpy())
            norm[name] = col
            out[f"{name}_nrm"] = col
            total += col
        score = np.empty(len(out))
        for y in np.unique(years):
            m = years == y
            score[m] = rescale(total[m])
        out["gisd_score"] = score
        return out

    def weights(self) -> pd.DataFrame:
        """Loadings, share within the domain (loading^2) and share of the GISD (share / 3) per indicator."""
        rows = []
        for name, cols in self.domains.items():
            for col, w in zip(cols, self.loadings_[name], strict=True):
                rows.append({"domain": name, "indicator": col, "loading": w, "share_of_domain": w * w,
                             "share_of_gisd": w * w / len(self.domains),
                             "explained_variance_ratio": self.explained_variance_ratio_[name]})
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------
# 5b. the RKI's outlier smoothing (script part VI)
# ---------------------------------------------------------------------------------------------------------
LAND_CODE = {"BW": "08", "BY": "09", "BB": "12", "MV": "13", "NI": "03", "NW": "05", "RP": "07", "SN": "14",
             "ST": "15", "SH": "01", "TH": "16"}


def _z_over_time(scores: pd.DataFrame, col: str) -> np.ndarray:
    """The z-score of each Gemeinde's time-rescaled score within its own series (RKI's ``Z_ts``)."""
    g0 = scores.groupby("key")[col]
    lo, hi = g0.transform("min"), g0.transform("max")
    span = hi - lo
    resc = ((scores[col] - lo) / span.where(span > 0)).where(span > 0, 0.5).where(scores[col].notna())
    g = resc.groupby(scores["key"])
    return ((resc - g.transform("mean")) / g.transform("std")).to_numpy()


def _select(scores: pd.DataFrame, dim: str, rules: list[tuple[str, Any]]) -> np.ndarray:
    year = scores["year"].to_numpy()
    land = scores["key"].str.slice(0, 2).to_numpy()
    score = scores[f"{dim}_nrm"].to_numpy()
    z = scores[f"_z_{dim}"].to_numpy()
    sel = np.zeros(len(scores), dtype=bool)
    with np.errstate(invalid="ignore"):
        for lk, rule in rules:
            sel |= (land == LAND_CODE[lk]) & rule(year, score, z)
    return sel


#: round 1 and 2 of the hand-picked outliers (Land, condition on year J, year-normalised score S, z over time Z)
ROUND1 = {
    "employment": [
        ("BW", lambda J, S, Z: (J == 2002) & (S > 0.5)),
        ("MV", lambda J, S, Z: ((J == 2002) & (S > 0.85)) | (np.isin(J, [2011, 2013, 2015, 2016]) & (S > 0.95))),
        ("NI", lambda J, S, Z: np.isin(J, [2002, 2004]) & ((Z > 2) | (Z < -1))),
        ("NW", lambda J, S, Z: (J == 2016) & (Z < -1.5)),
        ("RP", lambda J, S, Z: ((J == 2002) & (Z > 2)) | ((J == 2017) & (S > 0.95))),
        ("SN", lambda J, S, Z: (J == 2013) & (Z > 1)),
        ("ST", lambda J, S, Z: ((J == 2013) & (Z > 1)) | ((J == 2015) & (S > 0.95))),
        ("SH", lambda J, S, Z: ((J == 2002) & (Z > 2)) | ((J == 2018) & (S > 0.9))),
        ("TH", lambda J, S, Z: ((J == 2002) & (Z >= 2)) | ((J == 2005) & (Z < 0)) | ((J == 2018) & (S < 0.1))
         | ((J == 2019) & (Z > 0))),
    ],
    "income": [
        ("BW", lambda J, S, Z: ((J == 2004) & (Z < -1)) | ((J == 2015) & ((Z < -1.5) | (Z > 0.8)))
         | ((J == 2016) & (S < 0.2))),
        ("BY", lambda J, S, Z: ((J == 2004) & ((Z < -1) | (Z > 4))) | ((J == 2012) & (Z < -1)) | (J == 2017)),
        ("BB", lambda J, S, Z: Z > 2),
        ("NI", lambda J, S, Z: np.isin(J, [2005, 2007, 2009, 2012]) & (S > 0.75)),
        ("NW", lambda J, S, Z: ((J == 2004) & (Z <= -2)) | ((J == 2011) & (Z <= -1)) | ((J <= 2017) & (Z <= -1.5))),
    ],
}
ROUND2 = {
    "employment": [
        ("BW", lambda J, S, Z: (J == 2007) & (Z < -1)),
        ("MV", lambda J, S, Z: (J == 2014) & (S > 0.95)),
        ("SN", lambda J, S, Z: (J == 2014) & (S > 0.9)),
        ("TH", lambda J, S, Z: (J == 2006) & (S < 0.25)),
    ],
    "income": [("BW", lambda J, S, Z: ((J == 2015) & (Z > -0.2)) | ((J == 2017) & (S < 0.2)))],
}


def _renormalise(scores: pd.DataFrame, domains: tuple[str, ...]) -> None:
    years = scores["year"].to_numpy()
    for name in domains:
        col = np.empty(len(scores))
        for y in np.unique(years):
            m = years == y
            col[m] = rescale(scores.loc[m, f"{name}_raw"].to_numpy())
        scores[f"{name}_nrm"] = col
    total = scores[[f"{n}_nrm" for n in DOMAINS]].sum(axis=1, skipna=False).to_numpy()
    score = np.empty(len(scores))
    for y in np.unique(years):
        m = years == y
        score[m] = rescale(total[m])
    scores["gisd_score"] = score


def smooth_outliers(scores: pd.DataFrame) -> pd.DataFrame:
    """The RKI's two rounds of outlier smoothing of the employment and income scores (script part VI).

    Selected Gemeinde-years (by Land, year, year-normalised score and z over the Gemeinde's own series) get the
    mean of the previous and next year's raw domain score; the scores are then normalised again per year.
    ``smoothed`` counts the rounds a row was touched in.
    """
    out = scores.sort_values(["key", "year"]).reset_index(drop=True)
    out["smoothed"] = 0
    for rnd, rules in ((1, ROUND1), (2, ROUND2)):
        for dim in rules:
            out[f"_z_{dim}"] = _z_over_time(out, f"{dim}_raw")
        picks = {dim: _select(out, dim, r) for dim, r in rules.items()}
        for dim, sel in picks.items():
            g = out.groupby("key")[f"{dim}_raw"]
            interp = ((g.shift(1) + g.shift(-1)) / 2).to_numpy()
            out[f"{dim}_raw"] = np.where(sel, interp, out[f"{dim}_raw"].to_numpy())
            out.loc[sel, "smoothed"] = rnd
        _renormalise(out, tuple(rules))
    return out.drop(columns=[c for c in out.columns if c.startswith("_z_")])


# ---------------------------------------------------------------------------------------------------------
# 6. aggregation and quintiles
# ---------------------------------------------------------------------------------------------------------
def quantile_classes(values: np.ndarray, n: int) -> np.ndarray:
    """R: ``findInterval(findInterval(x, quantile(x, 0:n/n, type=9)), 1:n)`` -> classes 1..n."""
    probs = np.linspace(0, 1, n + 1)
    breaks = np.quantile(values, probs, method="normal_unbiased")  # Hyndman & Fan type 9
    first = np.searchsorted(breaks, values, side="right")  # findInterval: number of breaks <= x
    return np.clip(first, 1, n)


def aggregate(scores: pd.DataFrame, key_column: str = "kreis_key") -> pd.DataFrame:
    """Population-weighted mean score per unit and year, renormalised per year, with quintiles and deciles."""
    s = scores.assign(_w=scores["population"] * scores["gisd_score"])
    g = s.groupby([key_column, "year"]).agg(_w=("_w", "sum"), population=("population", "sum"),
                                            _n=("gisd_score", "count"), _rows=("gisd_score", "size")).reset_index()
    g.loc[g["_n"] < g["_rows"], "_w"] = np.nan  # R's weighted.mean: a missing member makes the mean missing
    g["gisd_score"] = g["_w"] / g["population"]
    out = []
    for _year, part in g.groupby("year"):
        part = part.copy()
        part["gisd_score"] = rescale(part["gisd_score"].to_numpy())
        part["gisd_5"] = quantile_classes(part["gisd_score"].to_numpy(), 5)
        part["gisd_10"] = quantile_classes(part["gisd_score"].to_numpy(), 10)
        part["gisd_k"] = np.searchsorted([1, 2, 5], part["gisd_5"].to_numpy(), side="right")
        out.append(part)
    res = pd.concat(out, ignore_index=True).rename(columns={key_column: "key"})
    return res[["key", "year", "population", "gisd_score", "gisd_5", "gisd_10", "gisd_k"]]


def gisd_from_inputs(gemeinden: pd.DataFrame, inputs: pd.DataFrame, *, latest_year: int = LATEST_YEAR,
                     outliers: bool = True, employment_rate: str = "gvb"
                     ) -> tuple[pd.DataFrame, pd.DataFrame, GisdModel]:
    """The whole method: (Gemeinde scores, Kreis scores, fitted model); ``outliers`` applies the RKI smoothing."""
    wf = build_workfile(gemeinden, inputs, latest_year=latest_year, employment_rate=employment_rate)
    wf = impute(correct(wf))
    model = GisdModel().fit(wf)
    scores = model.transform(wf)
    if outliers:
        scores = smooth_outliers(scores)
    return scores, aggregate(scores, "kreis_key"), model


def compare_with_release(ours: pd.DataFrame, release: pd.DataFrame) -> pd.DataFrame:
    """Per year, the agreement with the published GISD: units, Spearman's rho, same and near quintile shares.

    Columns: ``n`` units, ``spearman_rho`` of the scores, ``quintile_agreement``, ``within_one_quintile``.
    """
    from scipy.stats import spearmanr

    m = ours.merge(release, on=["key", "year"], suffixes=("", "_published"))
    rows = []
    for year, part in m.groupby("year"):
        rho = spearmanr(part["gisd_score"], part["gisd_score_published"]).statistic
        same = float((part["gisd_5"] == part["gisd_5_published"]).mean())
        near = float(((part["gisd_5"] - part["gisd_5_published"]).abs() <= 1).mean())
        rows.append({"year": int(year), "n": len(part), "spearman_rho": float(rho), "quintile_agreement": same,
                     "within_one_quintile": near})
    return pd.DataFrame(rows)
