"""``quartiere compare BASE.yml DRAFT.yml``: run a draft definition against the same data and compare."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.config import DEFAULT_SNAPSHOTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("compare", help="compare a draft programme definition with a base definition")
    p.add_argument("base", help="base programme definition (YAML)")
    p.add_argument("draft", help="draft programme definition (YAML)")
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOTS), help="snapshots folder")
    p.add_argument("--version", dest="snapshot_version", help="snapshot version other than CURRENT")
    p.add_argument("--level", default="ortsteil", choices=["ortsteil", "stadtteil", "stadtbezirk"])
    p.add_argument("--year", type=int, help="data year (default: the latest)")
    p.add_argument("--table", help="plain CSV table instead of a snapshot")
    p.add_argument("--id-column", help="id column of --table")
    p.add_argument("--out", help="CSV of the areas that change (default: print only)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere compare``: print how the draft definition differs from the base; exit code 0."""
    from geo.classify import compare_definitions, load_definition

    base = load_definition(args.base)
    draft = load_definition(args.draft)
    if args.table:
        from geo.errors import Problem, ValidationError
        from service.commands.classify import read_table

        if not args.id_column:
            raise ValidationError(
                "--table needs --id-column",
                problems=[Problem(check="argument", message="name the id column", detail={"field": "--id-column"})],
            )
        table = read_table(args.table, args.id_column).rename(columns={args.id_column: base.id_column})
    else:
        from geo.pipeline.snapshot import load_snapshot

        snap = load_snapshot(args.snapshot, args.snapshot_version)
        table = snap.wide(level=args.level, year=args.year)
    comparison, _, _ = compare_definitions(table, base, draft)
    print(comparison.to_text())
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        comparison.areas.to_csv(out, index=False)
        summary = out.with_name(out.stem + "_categories.csv")
        comparison.categories.to_csv(summary, index=False)
        comparison.budget.to_csv(out.with_name(out.stem + "_budget.csv"), index=False)
        print(f"\nwrote {out}, {summary.name} and {out.stem}_budget.csv")
    return 0
