"""Search the gazetteer the way planners ask: names with typos, any case, umlauts or not; postcodes.

Ranking: exact normalised match first, then prefix matches, then fuzzy matches (rapidfuzz WRatio on the
normalised variants, score >= ``min_score``); within a score, Ortsteile before Stadtteile, Stadtbezirke and
postcodes, then by name. The index is built once per snapshot; a query touches only arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz, process

from geo.places.gazetteer import PLZ_PATTERN, normalise

TYPE_ORDER = {"ortsteil": 0, "stadtteil": 1, "stadtbezirk": 2, "postcode": 3, "address": 4}


@dataclass(frozen=True)
class PlaceIndex:
    """Prepared gazetteer: one entry per spelling variant, pointing to its place row."""

    places: pd.DataFrame
    variants: list[str]
    owner: list[int]

    @classmethod
    def from_gazetteer(cls, gazetteer: pd.DataFrame) -> PlaceIndex:
        """Build the index from a gazetteer frame whose ``variants`` column lists spellings separated by ";"."""
        places = gazetteer.reset_index(drop=True)
        variants: list[str] = []
        owner: list[int] = []
        for i, vs in enumerate(places["variants"].astype(str)):
            for v in vs.split(";"):
                variants.append(v)
                owner.append(i)
        return cls(places=places, variants=variants, owner=owner)

    def search(self, query: str, *, limit: int = 10, min_score: float = 70.0) -> list[dict[str, object]]:
        """Ranked matches for ``query`` with ``type``, ``key``, ``name``, ``city``, ``lon``, ``lat``, ``score``."""
        q = normalise(query)
        if not q:
            return []
        best: dict[int, float] = {}
        compact = q.replace(" ", "")
        if PLZ_PATTERN.match(compact) or compact.isdigit():
            for v, i in zip(self.variants, self.owner, strict=True):
                if v.startswith(compact):
                    best[i] = max(best.get(i, 0.0), 100.0 if v == compact else 95.0)
        else:
            for v, i in zip(self.variants, self.owner, strict=True):
                if v in (q, compact):
                    best[i] = 100.0
                elif v.startswith(q) or v.startswith(compact):
                    best[i] = max(best.get(i, 0.0), 95.0)
            for _v, score, j in process.extract(q, self.variants, scorer=fuzz.WRatio, limit=limit * 4,
                                                score_cutoff=min_score):
                i = self.owner[j]
                best[i] = max(best.get(i, 0.0), min(float(score), 94.0))
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], TYPE_ORDER.get(str(self.places.at[kv[0], "type"]), 9),
                                                      str(self.places.at[kv[0], "name"])))
        out = []
        for i, score in ranked[:limit]:
            row = self.places.iloc[i]
            out.append({"type": row["type"], "key": row["key"], "name": row["name"], "city": row["city"],
                        "lon": float(row["lon"]), "lat": float(row["lat"]), "score": round(score, 1)})
        return out
