"""District types: k-means clustering of standardised indicators.

Method (stated in every result as ``criterion``):

1. The types are fitted on the areas that have every chosen indicator. An area missing some (at most half)
   is assigned to the nearest type centre on the indicators it has (``partial`` True); one missing more is
   left out (``type_id`` NaN, listed in ``excluded``).
2. Each indicator is standardised over the complete areas: unweighted mean, population standard deviation
   (ddof=0), like the z-score index. A constant indicator carries no information and is rejected.
3. For every k in ``k_values`` (default 3..8, capped at n-1) k-means (scikit-learn, ``n_init=10``, fixed
   ``random_state``) is fitted and scored by the mean silhouette coefficient (Euclidean). The k with the
   highest silhouette wins; ties (within ``1e-9``) go to the smaller k.
4. Rows are sorted by key before fitting, so the result does not depend on the input row order.
   Types are numbered 1..k by size (largest first), ties by the smallest member key, so that numbering does
   not depend on scikit-learn's internal label order.
5. Each type is described by its profile: size, member keys and the mean z of every indicator. Its label
   names the (at most ``label_terms``) indicators with the largest absolute mean z of at least
   ``label_min_z`` (default 0.5 standard deviations), e.g. "SGB-II-Quote der Kinder unter 15 hoch,
   Wahlbeteiligung niedrig" / "high SGB II recipients per 100 children under 15, low turnout";
   a type with no such indicator is "durchschnittliches Profil" / "average profile".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from geo.errors import Problem, ValidationError
from geo.pipeline.indicators import REGISTRY

__all__ = ["Typology", "fit_typology", "standardise"]

_TIE = 1e-9


@dataclass(frozen=True)
class Typology:
    """Result of :func:`fit_typology`.

    Attributes
    ----------
    k
        Number of types chosen.
    assignments
        One row per input area, in input order: ``key``, ``type_id`` (Int64, NA when excluded), ``label_de``,
        ``label_en``, ``distance`` (Euclidean distance to the type centre in z units), ``partial`` (assigned on
        the indicators it has).
    profiles
        One row per type: ``type_id``, ``size``, ``members`` (";"-joined keys), ``label_de``, ``label_en`` and
        ``z_<indicator>`` (mean z of the members) for every indicator.
    scores
        ``k`` and ``silhouette`` for every k tried.
    criterion
        The selection rule in words.
    excluded
        Keys left out because more than half of their indicators are missing.
    means, stds
        Mean and population standard deviation used for the standardisation (per indicator).
    """

    k: int
    assignments: pd.DataFrame
    profiles: pd.DataFrame
    scores: pd.DataFrame
    criterion: str
    columns: list[str]
    excluded: list[str] = field(default_factory=list)
    means: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    stds: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


def standardise(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """z-scores of ``columns`` (unweighted mean, population standard deviation); returns (z, means, stds)."""
    data = frame[list(columns)].astype(float)
    means = data.mean()
    stds = data.std(ddof=0)
    return (data - means) / stds, means, stds


def _labels(name: str) -> tuple[str, str]:
    ind = REGISTRY.get(name)
    return (ind.label_de, ind.label_en) if ind else (name, name)


def _describe(zmeans: pd.Series, *, min_z: float, terms: int) -> tuple[str, str]:
    order = zmeans.abs().sort_values(ascending=False, kind="stable")
    de, en = [], []
    for name in order.index[:terms]:
        z = float(zmeans[name])
        if abs(z) < min_z:
            break
        label_de, label_en = _labels(name)
        high = z > 0
        de.append(f"{label_de} {'hoch' if high else 'niedrig'}")
        # lower-case the first letter of a word, never of an abbreviation ("SGB II ...")
        first = label_en.split(" ", 1)[0]
        word = label_en if first.isupper() or any(ch.isupper() for ch in first[1:]) else label_en[:1].lower() + \
            label_en[1:]
        en.append(f"{'high' if high else 'low'} {word}")
    if not de:
        return "durchschnittliches Profil", "average profile"
    return ", ".join(de), ", ".join(en)


def fit_typology(frame: pd.DataFrame, columns: Sequence[str], *, key_column: str = "key",
                 k_values: Sequence[int] = range(3, 9), random_state: int = 0, n_init: int = 10,
                 label_min_z: float = 0.5, label_terms: int = 2) -> Typology:
    """Cluster districts into types from standardised indicators.

    Parameters
    ----------
    frame
        One row per district (e.g. a wide table of one level and year).
    columns
        Indicator columns to use (at least one).
    key_column
        District key column.
    k_values
        Candidate numbers of types; values >= the number of usable areas are dropped.
    random_state
        Seed of k-means; the result is reproducible.
    n_init
        k-means restarts per k.
    label_min_z, label_terms
        An indicator names a type when its mean z is at least ``label_min_z`` in absolute value; at most
        ``label_terms`` indicators per label.

    Returns
    -------
    Typology

    Raises
    ------
    ValidationError
        Missing or non-numeric columns, duplicate keys, a constant indicator, or too few areas for any k.
    """
    columns = list(columns)
    _check_input(frame, columns, key_column)
    # fit on rows sorted by key, so that the result cannot depend on the input row order
    order = np.argsort(frame[key_column].astype(str).to_numpy(), kind="stable")
    keys = frame[key_column].astype(str).iloc[order].reset_index(drop=True)
    data = frame[columns].astype(float).iloc[order].reset_index(drop=True)
    complete = data.notna().all(axis=1).to_numpy()
    used = data[complete]
    z, means, stds = standardise(used, columns)
    constant = [c for c in columns if not stds[c] > 0]
    if constant:
        raise ValidationError("cannot fit a typology", problems=[
            Problem("constant", f"indicator {c!r} is constant over the usable areas") for c in constant])
    n = len(used)
    ks = sorted({int(k) for k in k_values if 2 <= int(k) < n})
    if not ks:
        raise ValidationError("cannot fit a typology", problems=[
            Problem("too_few_areas", f"{n} usable areas are too few for k in {list(k_values)}")])
    X = z.to_numpy()
    k_best, raw, score_frame = _best_k(X, ks, n_init=n_init, random_state=random_state)
    used_keys = keys[complete].to_numpy()
    type_ids = _renumber(raw, used_keys)
    profiles, centres = _profiles(z, type_ids, used_keys, columns, label_min_z=label_min_z, label_terms=label_terms)
    assign = _assignments(keys, complete, type_ids, profiles, centres, X)
    _assign_partial(assign, ((data - means) / stds).to_numpy(), complete, profiles, centres)
    excluded = keys[assign["type_id"].isna().to_numpy()].tolist()
    # back to the input row order
    assign = assign.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    criterion = (f"k-means on z-scores (population SD) of {', '.join(columns)}; k chosen from {ks} by the "
                 f"highest mean silhouette (ties -> smaller k); random_state={random_state}, n_init={n_init}")
    return Typology(k=k_best, assignments=assign, profiles=profiles, scores=score_frame, criterion=criterion,
                    columns=columns, excluded=excluded, means=means, stds=stds)


def _check_input(frame: pd.DataFrame, columns: list[str], key_column: str) -> None:
    """Raise with every problem at once: missing or non-numeric columns, no columns, duplicate keys."""
    problems = [Problem("missing_column", f"frame lacks column {c!r}")
                for c in [key_column, *columns] if c not in frame.columns]
    if not columns:
        problems.append(Problem("columns", "no indicator columns given"))
    if not problems:
        problems += [Problem("dtype", f"column {c!r} is not numeric") for c in columns
                     if not pd.api.types.is_numeric_dtype(frame[c])]
        if frame[key_column].duplicated().any():
            problems.append(Problem("duplicate_key", "duplicate keys in the frame"))
    if problems:
        raise ValidationError("cannot fit a typology", problems=problems)


def _best_k(X: np.ndarray, ks: list[int], *, n_init: int,
            random_state: int) -> tuple[int, np.ndarray, pd.DataFrame]:
    """k-means for every k; the k with the highest mean silhouette (ties: the smaller), its labels, all scores."""
    fits: dict[int, np.ndarray] = {}
    scores = []
    for k in ks:
        km = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(X)
        labels = km.labels_
        sil = silhouette_score(X, labels) if len(set(labels)) > 1 else -1.0
        fits[k] = labels
        scores.append({"k": k, "silhouette": float(sil)})
    score_frame = pd.DataFrame(scores)
    best = max(score_frame["silhouette"])
    k_best = int(score_frame.loc[score_frame["silhouette"] >= best - _TIE, "k"].min())
    return k_best, fits[k_best], score_frame


def _renumber(raw: np.ndarray, used_keys: np.ndarray) -> np.ndarray:
    """Type numbers 1, 2, ... by size (descending), then by smallest member key."""
    groups = sorted(set(raw), key=lambda g: (-(raw == g).sum(), min(used_keys[raw == g])))
    remap = {g: i + 1 for i, g in enumerate(groups)}
    return np.array([remap[g] for g in raw])


def _profiles(z: pd.DataFrame, type_ids: np.ndarray, used_keys: np.ndarray, columns: list[str], *,
              label_min_z: float, label_terms: int) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """One row per type (size, members, unique labels, mean z per indicator) and each type's centre."""
    rows = []
    centres = {}
    for t in range(1, int(type_ids.max()) + 1):
        members = type_ids == t
        zmean = z[members].mean()
        centres[t] = zmean.to_numpy()
        label_de, label_en = _describe(zmean, min_z=label_min_z, terms=label_terms)
        rows.append({"type_id": t, "size": int(members.sum()), "members": ";".join(sorted(used_keys[members])),
                     "label_de": label_de, "label_en": label_en,
                     **{f"z_{c}": float(zmean[c]) for c in columns}})
    profiles = pd.DataFrame(rows)
    # make labels unique: same words -> add the type number
    for col in ("label_de", "label_en"):
        dup = profiles[col].duplicated(keep=False)
        profiles.loc[dup, col] = profiles.loc[dup, col] + " (" + profiles.loc[dup, "type_id"].astype(str) + ")"
    return profiles, centres


def _assignments(keys: pd.Series, complete: np.ndarray, type_ids: np.ndarray, profiles: pd.DataFrame,
                 centres: dict[int, np.ndarray], X: np.ndarray) -> pd.DataFrame:
    """Per area (sorted by key) its type, labels and distance to the type's centre; empty where incomplete."""
    assign = pd.DataFrame({"key": keys, "type_id": pd.array([pd.NA] * len(keys), dtype="Int64"),
                           "label_de": pd.Series([pd.NA] * len(keys), dtype="string"),
                           "label_en": pd.Series([pd.NA] * len(keys), dtype="string"),
                           "distance": np.nan})
    pos = np.flatnonzero(complete)
    assign.loc[pos, "type_id"] = type_ids
    lab = profiles.set_index("type_id")
    assign.loc[pos, "label_de"] = lab.loc[type_ids, "label_de"].to_numpy()
    assign.loc[pos, "label_en"] = lab.loc[type_ids, "label_en"].to_numpy()
    assign.loc[pos, "distance"] = np.linalg.norm(X - np.vstack([centres[t] for t in type_ids]), axis=1)
    return assign


def _assign_partial(assign: pd.DataFrame, zall: np.ndarray, complete: np.ndarray, profiles: pd.DataFrame,
                    centres: dict[int, np.ndarray]) -> None:
    """Give areas with at least half their indicators the nearest type on those (in place, marked ``partial``)."""
    assign["partial"] = False
    lab = profiles.set_index("type_id")
    centre_mat = np.vstack([centres[t] for t in range(1, len(profiles) + 1)])
    for i in np.flatnonzero(~complete):
        have = ~np.isnan(zall[i])
        if have.sum() * 2 < zall.shape[1]:
            continue
        dist = np.linalg.norm(centre_mat[:, have] - zall[i, have][None, :], axis=1)
        t = int(np.argmin(dist)) + 1
        assign.loc[i, ["type_id", "label_de", "label_en", "distance", "partial"]] = [
            t, lab.loc[t, "label_de"], lab.loc[t, "label_en"], float(dist[t - 1]), True]
