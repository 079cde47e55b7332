"""Where things live: the official data folder and the snapshot folder.

The data folder is taken from an explicit argument (``--data DIR``), else the environment variable
``QUARTIERE_DATA``, else ``../shared/data`` relative to the current directory, else relative to the
repository root.
"""

from __future__ import annotations

import os
from pathlib import Path

from geo.errors import DataNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_RELATIVE = Path("..") / "shared" / "data"
DEFAULT_SNAPSHOTS = Path("snapshots")
PROGRAMMES_DIR = REPO_ROOT / "programmes"
DEFAULT_PROGRAMME = PROGRAMMES_DIR / "lebendige-quartiere.yml"
#: the screening definition of the national dataset (``quartiere national``, the national map and OGC layers)
NATIONAL_PROGRAMME = PROGRAMMES_DIR / "germany-screening.yml"
#: the former default (a demographic proxy), compared with in the designation table
ALTERNATIVE_PROGRAMME = PROGRAMMES_DIR / "lebendige-quartiere-demographic.yml"

WHERE_TO_GET_DATA = (
    "Get the official files: boundaries from Landesamt GeoInformation Bremen ('Verwaltungsgrenzen', "
    "shapefiles in EPSG:25832), tables 12411-03-03, 173-22, 173-55 and 173-97 from the regional database of "
    "the Statistisches Landesamt Bremen (CSV export). Lay them out as described in README.md "
    "('Data') and pass the folder with --data DIR or QUARTIERE_DATA."
)


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the official data folder, or raise :class:`DataNotFoundError` saying where to get it."""
    candidates: list[tuple[str, Path]] = []
    if explicit is not None:
        candidates.append(("--data", Path(explicit)))
    elif os.environ.get("QUARTIERE_DATA"):
        candidates.append(("QUARTIERE_DATA", Path(os.environ["QUARTIERE_DATA"])))
    else:
        candidates.append(("default", Path.cwd() / DEFAULT_DATA_RELATIVE))
        candidates.append(("default", REPO_ROOT / DEFAULT_DATA_RELATIVE))
    for _origin, path in candidates:
        if path.is_dir():
            return path.resolve()
    tried = ", ".join(f"{p} ({origin})" for origin, p in candidates)
    raise DataNotFoundError(f"official data folder not found (tried {tried}). {WHERE_TO_GET_DATA}")
