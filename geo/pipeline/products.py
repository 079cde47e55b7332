"""What a build publishes besides the data: every product the service, pages, report and downloads read.

For each programme definition shipped with the build (``programmes/lebendige-quartiere.yml`` by default, more
with ``quartiere build --programme FILE``), inside the version folder and before it is renamed into place:

``classifications/<definition hash>.json``   the full classification (reasons, near misses, stability, budget)
``products/monitoring-<definition hash>.json`` inequality and segregation series, district trends and early
                                              warnings at every level, hot spots and district types
                                              (:func:`geo.analysis.monitoring.products.monitoring_product`)

Each is listed in the manifest's ``products`` with its SHA-256. The service loads them and computes nothing; a
version built before a product existed answers 503 "rebuild" (:class:`geo.errors.ProductMissingError`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geo.errors import DefinitionError, ProductMissingError, SnapshotError, ValidationError

CLASSIFICATIONS = "classifications"
PRODUCTS = "products"


def _classification_path(version_dir: Path, definition_hash: str) -> Path:
    return version_dir / CLASSIFICATIONS / f"{definition_hash}.json"


def _monitoring_path(version_dir: Path, definition_hash: str) -> Path:
    return version_dir / PRODUCTS / f"monitoring-{definition_hash}.json"


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _entry(version_dir: Path, path: Path, kind: str, definition: Any) -> dict[str, Any]:
    return {"path": path.relative_to(version_dir).as_posix(), "kind": kind, "programme": str(definition.id),
            "definition_hash": str(definition.hash), "sha256": _sha256_of(path), "bytes": path.stat().st_size}


def build_products(version_dir: Path, programmes: Sequence[str | os.PathLike[str]]) -> tuple[list[dict[str, Any]],
                                                                                             dict[str, float]]:
    """Compute and write the products of the (not yet renamed) version folder ``version_dir``.

    Returns the manifest entries and the timings in seconds.
    """
    from geo.analysis.monitoring.products import monitoring_product
    from geo.analysis.proxies import proxy_correlations
    from geo.classify import classify, load_definition, save_result
    from geo.pipeline.snapshot import load_snapshot

    snapshot = load_snapshot(version_dir.parent, version_dir.name)
    wide = snapshot.wide("ortsteil")
    entries: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    for programme in programmes:
        definition = load_definition(programme)
        t0 = time.perf_counter()
        try:
            meta: dict[str, Any] = {"snapshot_version": snapshot.version}
            if definition.bases:  # the evidence each group's own basis rests on (see geo.analysis.proxies)
                meta["basis_evidence"] = proxy_correlations(wide).to_dict()
            result = classify(wide, definition, meta=meta)
            result.meta["designations_versus_data"] = _designations_versus_data(result, snapshot, wide, definition)
        except (DefinitionError, ValidationError) as exc:
            # the data lacks what the definition needs (e.g. a build from a subset of the tables): the version
            # is published without this programme's products, says why, and a service answers 503 "rebuild"
            entries.append({"kind": "skipped", "programme": str(definition.id),
                            "definition_hash": str(definition.hash), "reason": exc.message[:500]})
            continue
        path = save_result(result, _classification_path(version_dir, definition.hash))
        entries.append(_entry(version_dir, Path(path), "classification", definition))
        t1 = time.perf_counter()
        mon = monitoring_product(snapshot, definition, result, wide)
        out = _monitoring_path(version_dir, definition.hash)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(mon, ensure_ascii=False, separators=(",", ":"), allow_nan=False),
                       encoding="utf-8")
        entries.append(_entry(version_dir, out, "monitoring", definition))
        timings[f"classification:{definition.id}"] = t1 - t0
        timings[f"monitoring:{definition.id}"] = time.perf_counter() - t1
    return entries, timings


def _designations_versus_data(result: Any, snapshot: Any, wide: Any, definition: Any) -> dict[str, Any]:
    """The designated-versus-indicated table (:mod:`geo.classify.designations`) as a JSON-ready document.

    Next to the alternative definition (the former demographic proxy) where it can classify the same data.
    """
    from geo.classify import classify, load_definition
    from geo.classify.designations import designation_versus_data
    from geo.config import ALTERNATIVE_PROGRAMME

    alternative = None
    alt_id = None
    if ALTERNATIVE_PROGRAMME.is_file():
        alt_def = load_definition(ALTERNATIVE_PROGRAMME)
        if alt_def.hash != definition.hash:
            try:
                alternative = classify(wide, alt_def, draws=0)
                alt_id = alt_def.id
            except (DefinitionError, ValidationError):
                alternative = None
    table = designation_versus_data(result, snapshot.designations, alternative=alternative)
    rows = [{k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
            for rec in table.to_dict(orient="records")]
    return {"alternative": alt_id, "rows": rows}


def _product_entry(manifest: dict[str, Any], kind: str, definition_hash: str) -> dict[str, Any] | None:
    for item in [*(manifest.get("products") or []), *(manifest.get("products_skipped") or [])]:
        if item.get("kind") == kind and item.get("definition_hash") == definition_hash:
            return dict(item)
    return None


def require_product(version_dir: Path, manifest: dict[str, Any], kind: str, definition: Any) -> dict[str, Any]:
    """The manifest entry of a published product, or :class:`ProductMissingError` saying how to rebuild."""
    skipped = _product_entry(manifest, "skipped", str(definition.hash))
    if skipped is not None:
        raise ProductMissingError(f"snapshot {version_dir.name} was built without the products of programme "
                                  f"{definition.id!r}: {skipped.get('reason')}")
    entry = _product_entry(manifest, kind, str(definition.hash))
    if entry is None or not (version_dir / entry["path"]).is_file():
        raise ProductMissingError(
            f"snapshot {version_dir.name} has no published {kind} for programme {definition.id!r} "
            f"(definition sha256 {str(definition.hash)[:12]}); rebuild it: quartiere build"
            + ("" if str(definition.id) == "lebendige-quartiere" else " --programme FILE"))
    return entry


def read_product(version_dir: Path, manifest: dict[str, Any], kind: str, definition: Any) -> dict[str, Any]:
    """The published JSON document of ``kind`` for ``definition``, checked against the manifest's checksum.

    Raises :class:`ProductMissingError` if it was not published, :class:`SnapshotError` if the file is damaged.
    """
    entry = require_product(version_dir, manifest, kind, definition)
    path = version_dir / entry["path"]
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != entry.get("sha256"):
        raise SnapshotError(f"{path}: checksum differs from the manifest (damaged file); rebuild the snapshot")
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise SnapshotError(f"{path}: not valid JSON ({exc}); rebuild the snapshot") from exc
    if not isinstance(doc, dict):
        raise SnapshotError(f"{path}: not a JSON object; rebuild the snapshot")
    return doc


def read_classification(version_dir: Path, manifest: dict[str, Any], definition: Any) -> Any:
    """The published classification of ``definition`` (:class:`geo.classify.ClassificationResult`)."""
    from geo.classify import ClassificationResult
    from geo.errors import InputError

    doc = read_product(version_dir, manifest, "classification", definition)
    try:
        return ClassificationResult.from_dict(doc)
    except (InputError, KeyError, TypeError, ValueError) as exc:
        raise ProductMissingError(f"{version_dir / 'classifications'}: the published classification cannot be "
                                  f"read ({str(exc)[:200]}); rebuild the snapshot: quartiere build") from exc


def read_monitoring(version_dir: Path, manifest: dict[str, Any], definition: Any) -> dict[str, Any]:
    """The published monitoring document of ``definition``."""
    from geo.analysis.monitoring.products import FORMAT

    doc = read_product(version_dir, manifest, "monitoring", definition)
    if doc.get("format") != FORMAT:
        raise ProductMissingError(f"snapshot {version_dir.name}: monitoring format {doc.get('format')!r} is not "
                                  f"{FORMAT}; rebuild the snapshot: quartiere build")
    return doc
