"""``quartiere designations``: designated versus indicated Ortsteile, each disagreement explained.

    quartiere designations --snapshot snapshots [--programme FILE] [--alternative FILE] [--out table.csv]

Classifies the current snapshot with the programme (default: the shipped social-need definition) and the
alternative (default: the former demographic proxy, ``programmes/lebendige-quartiere-demographic.yml``) and
prints one line per Ortsteil that is designated or indicated by either (see
:mod:`geo.classify.designations`).
"""

from __future__ import annotations

import argparse

from geo.config import ALTERNATIVE_PROGRAMME as ALTERNATIVE
from geo.config import DEFAULT_PROGRAMME, DEFAULT_SNAPSHOTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``designations`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("designations", help="designated versus indicated Ortsteile, disagreements explained")
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOTS), help="snapshots folder")
    p.add_argument("--version", dest="snapshot_version", help="snapshot version other than CURRENT")
    p.add_argument("--programme", default=str(DEFAULT_PROGRAMME), help="programme definition (YAML)")
    p.add_argument("--alternative", default=str(ALTERNATIVE), help="definition to compare with ('' = none)")
    p.add_argument("--out", help="also write the table as CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere designations``: print designated versus indicated Ortsteile; exit code 0."""
    from geo.classify import classify, load_definition
    from geo.classify.designations import designation_versus_data
    from geo.pipeline.snapshot import load_snapshot

    snap = load_snapshot(args.snapshot, args.snapshot_version)
    wide = snap.wide("ortsteil")
    definition = load_definition(args.programme)
    result = classify(wide, definition, draws=0)
    alternative = classify(wide, load_definition(args.alternative), draws=0) if args.alternative else None
    table = designation_versus_data(result, snap.designations, alternative=alternative)
    print(f"{definition.id} on snapshot {snap.version}"
          + (f", compared with {alternative.definition_id}" if alternative is not None else "") + ":")
    for r in table.itertuples():
        status = "" if r.status_index != r.status_index else f"{r.status_index:+.2f}"
        print(f"  {r.key} {r.name:<20} {'D' if r.designated else '-'}{'I' if r.indicated else '-'} "
              f"{status:>6} {r.explanation:<21} {r.indicated_categories or '-':<26} {r.detail}"
              + (f"  [alternative: {r.alternative_categories or '-'}; {r.change_from_alternative}]"
                 if alternative is not None else ""))
    counts = table["explanation"].value_counts().to_dict()
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return 0
