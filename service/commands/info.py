"""``quartiere info``: a readable summary of the current snapshot."""

from __future__ import annotations

import argparse

from geo.config import DEFAULT_SNAPSHOTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("info", help="summarise the current (or a given) snapshot")
    p.add_argument("snapshots", nargs="?", default=str(DEFAULT_SNAPSHOTS), help="snapshots folder")
    p.add_argument("--version", dest="snapshot_version", help="a version other than CURRENT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere info``: print a summary of the snapshot (layers, years, inputs, repairs, checks)."""
    from geo.pipeline.snapshot import list_versions, load_snapshot

    snap = load_snapshot(args.snapshots, args.snapshot_version)
    m = snap.manifest
    print(f"snapshot {snap.version} (created {m['created']}, code {m['code_version']})")
    print(f"  folder: {snap.path}")
    print(f"  versions in folder: {len(list_versions(args.snapshots))}")
    print("  layers: " + ", ".join(f"{n} {name}" for name, n in m["counts"].items()))
    for name, frame in snap.layers.items():
        if "city" in frame.columns:
            by_city = frame.groupby("city").size().to_dict()
            print(f"    {name}: " + ", ".join(f"{c} {city}" for city, c in by_city.items()))
    print(f"  years: {', '.join(str(y) for y in m['years'])}")
    print(f"  inputs: {len(m['inputs'])} files (sha256 of all: {m['inputs_sha256'][:16]}…)")
    print(f"  repairs ({len(m['repairs'])}):")
    for r in m["repairs"]:
        print(f"    - {r['step']}: {r['description']}")
    issues = [p for p in m["validation"] if p.get("severity") != "info"]
    print(f"  validation: {len(issues)} warnings")
    for p in issues:
        print(f"    - {p['message']}")
    for p in m["validation"]:
        if p.get("severity") == "info":
            print(f"    ✓ {p['message']}")
    return 0
