"""A copy of a published snapshot in which two districts carry hostile names (for escaping tests)."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pyogrio
import yaml

EVIL_NAMES = {
    "04012111": "<script>alert(1)</script>",
    "04012121": 'Am "Deich" \'s Eck & Überseeörtchen',
}


def make_evil_snapshots(src: Path, dst: Path) -> Path:
    """Copy the CURRENT version of ``src`` to ``dst`` and rename the Ortsteile of :data:`EVIL_NAMES`."""
    version = (src / "CURRENT").read_text(encoding="utf-8").strip()
    target = dst / version
    shutil.copytree(src / version, target, ignore=shutil.ignore_patterns("classifications", "products"))
    for p in [target, *target.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    gpkg = target / "districts.gpkg"
    layers = {name: pyogrio.read_dataframe(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    frame = layers["ortsteile"]
    for key, name in EVIL_NAMES.items():
        assert (frame["key"] == key).sum() == 1, key
        frame.loc[frame["key"] == key, "name"] = name
    gpkg.unlink()
    for name, layer in layers.items():
        pyogrio.write_dataframe(layer, gpkg, layer=name, driver="GPKG")
    # the build's products (classification, monitoring) published anew for the renamed districts
    from geo.config import DEFAULT_PROGRAMME
    from geo.pipeline.products import build_products

    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    manifest["products"], _ = build_products(target, [DEFAULT_PROGRAMME])
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (dst / "CURRENT").write_text(version + "\n", encoding="utf-8")
    return dst


def make_drafts(dst: Path) -> Path:
    """A scenario folder with one draft ``draft-lower-threshold``: WiN from status index 0.5, 45 % cap."""
    repo = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((repo / "programmes" / "lebendige-quartiere.yml").read_text(encoding="utf-8"))
    data["id"] = "draft-lower-threshold"
    data["title"] = "Entwurf: niedrigere WiN-Schwelle"
    data["categories"][0]["all"][0]["value"] = 0.5
    data["spatial"]["population_cap"]["share"] = 0.45
    data["robustness"]["draws"] = 50
    (dst / "draft-lower-threshold.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return dst
