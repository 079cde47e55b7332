"""Which files in the data folder are inputs, and what they are.

Discovery is by pattern, so a new year's table or a new layer of the same format is picked up without code
changes: every ``hb_<level>_<city>.shp`` under ``*/original/``, every CSV under ``*/raw/`` (which must be a
statistics-office table), the funding-area list and the transcribed social indicators when present.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import DataNotFoundError

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
    extra: list[Path] = field(default_factory=list)
    #: any other input files (other datasets list theirs here)
    files: list[Path] = field(default_factory=list)

    def all_files(self) -> list[Path]:
        files: list[Path] = []
        for paths in self.layers.values():
            for shp in paths:
                files.append(shp)
                files.extend(p for ext in SHAPEFILE_SIDECARS if (p := shp.with_suffix(ext)).is_file())
        for shp in self.outlines:
            files.append(shp)
            files.extend(p for ext in SHAPEFILE_SIDECARS if (p := shp.with_suffix(ext)).is_file())
        files += self.statistics + self.designations + self.social + self.postcodes + self.extra + self.files
        return sorted(set(files))

    def checksums(self) -> list[dict[str, object]]:
        """SHA-256 and size of every input file, paths relative to the data folder where possible."""
        out = []
        for path in self.all_files():
            try:
                rel = str(path.relative_to(self.root))
            except ValueError:
                rel = str(path)
            data = path.read_bytes()
            out.append({"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
        return out


def discover(root: Path, *, extra: list[Path] | None = None) -> Catalogue:
    """Find the input files under ``root``; raise :class:`DataNotFoundError` naming what is missing."""
    cat = Catalogue(root=root)
    for level, pattern in LAYER_PATTERNS.items():
        cat.layers[level] = sorted(root.glob(pattern))
    cat.outlines = sorted(root.glob(OUTLINE_PATTERN))
    cat.statistics = sorted(root.glob(STATISTICS_PATTERN))
    cat.designations = sorted(root.glob(DESIGNATIONS_PATTERN))
    cat.social = sorted(root.glob(SOCIAL_PATTERN))
    cat.postcodes = sorted(root.glob(POSTCODES_PATTERN))
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
