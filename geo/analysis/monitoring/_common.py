"""Shared guards for the monitoring functions."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from geo.errors import Problem, ValidationError

LONG_REQUIRED = ("key", "level", "year", "indicator", "value")


def check_long(long: pd.DataFrame, *, what: str, extra: Iterable[str] = ()) -> None:
    """Raise :class:`ValidationError` naming every missing column of the long table."""
    missing = [c for c in (*LONG_REQUIRED, *extra) if c not in long.columns]
    if missing:
        raise ValidationError(f"cannot compute {what}: the indicator table lacks columns",
                              problems=[Problem("missing_column", f"missing column {c!r}") for c in missing])


def as_weights(values: np.ndarray, weights: np.ndarray | pd.Series | None, *, what: str) -> np.ndarray:
    """Weights as a float array (ones when None), validated: finite, non-negative, positive sum."""
    if weights is None:
        return np.ones_like(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    problems = []
    if w.shape != values.shape:
        problems.append(Problem("shape", f"{len(w)} weights for {len(values)} values"))
    elif not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        problems.append(Problem("weights", "weights must be finite, non-negative and not all zero"))
    if problems:
        raise ValidationError(f"invalid weights for {what}", problems=problems)
    return w


def as_values(values: np.ndarray | pd.Series | list[float], *, what: str, non_negative: bool = True) -> np.ndarray:
    """Values as a float array; NaN rejected (callers drop them first); negatives rejected if asked."""
    x = np.asarray(values, dtype=float)
    problems = []
    if x.ndim != 1 or len(x) == 0:
        problems.append(Problem("shape", f"{what} needs a non-empty 1-d array of values"))
    elif not np.isfinite(x).all():
        problems.append(Problem("missing", f"{what} got NaN or infinite values; drop them first"))
    elif non_negative and (x < 0).any():
        problems.append(Problem("negative", f"{what} is defined for non-negative values only"))
    if problems:
        raise ValidationError(f"cannot compute {what}", problems=problems)
    return x
