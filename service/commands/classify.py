"""``quartiere classify``: classify a snapshot's districts, or a plain table, with a programme definition.

Snapshot mode::

    quartiere classify --programme programmes/lebendige-quartiere.yml --snapshot snapshots --out result.csv

writes one row per district and stores the full result (reasons, near misses, designation check, robustness)
beside the CSV as ``<out>.json``. A published snapshot version is never written to (to publish a definition's
classification with a snapshot: ``quartiere build --programme FILE``).

Table mode (any city, no geometry, no snapshot)::

    quartiere classify --programme my.yml --table indicators.csv --id-column area_id --out result.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from geo.config import DEFAULT_PROGRAMME, DEFAULT_SNAPSHOTS
from geo.errors import InputError, Problem, ValidationError

CSV_COLUMNS_FIRST = ["key", "name", "city", "status_class", "dynamics_class", "categories", "stability", "budget_eur"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``classify`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("classify", help="classify districts (or a plain table) with a programme definition")
    p.add_argument("--programme", default=str(DEFAULT_PROGRAMME), help="programme definition (YAML)")
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOTS), help="snapshots folder (snapshot mode)")
    p.add_argument("--version", dest="snapshot_version", help="snapshot version other than CURRENT")
    p.add_argument("--level", default="ortsteil", choices=["ortsteil", "stadtteil", "stadtbezirk"])
    p.add_argument("--year", type=int, help="data year (default: the latest)")
    p.add_argument("--table", help="plain CSV table of indicators (table mode, no snapshot)")
    p.add_argument("--id-column", help="id column of --table")
    p.add_argument("--draws", type=int, help="Monte Carlo draws (default: the definition's; 0 = none)")
    p.add_argument("--seed", type=int, help="Monte Carlo seed (default: the definition's)")
    p.add_argument("--no-store", action="store_true", help="do not store the full result beside the CSV (<out>.json)")
    p.add_argument("--out", required=True, help="output CSV, one row per district")
    p.set_defaults(func=run)


def read_table(path: str, id_column: str) -> pd.DataFrame:
    """Read a plain CSV table; the id column stays a string (leading zeros matter)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"table {p} not found", problems=[Problem(check="file", message=f"{p} does not exist")])
    try:
        df = pd.read_csv(p, dtype={id_column: str})
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read table {p} as CSV: {exc}") from exc
    if id_column not in df.columns:
        raise ValidationError(
            f"--id-column {id_column!r} is not a column of {p}",
            problems=[
                Problem(
                    check="id_column",
                    message=f"columns are: {', '.join(map(str, df.columns))}",
                    file=str(p),
                    detail={"field": "--id-column"},
                )
            ],
        )
    return df


def classify_table_file(programme: str, table: str, id_column: str, **kwargs: Any) -> tuple[Any, pd.DataFrame]:
    """Table mode: classify a CSV; the id column is renamed to the definition's id column and back."""
    from geo.classify import classify, load_definition

    definition = load_definition(programme)
    df = read_table(table, id_column)
    key = definition.id_column
    if id_column != key:
        if key in df.columns:
            raise ValidationError(
                f"the table has both --id-column {id_column!r} and the definition's id column {key!r}",
                problems=[Problem(check="id_column", message="rename one of them", detail={"field": "--id-column"})],
            )
        df = df.rename(columns={id_column: key})
    result = classify(df, definition, **kwargs)
    out = csv_frame(result)
    if id_column != key:
        out = out.rename(columns={key: id_column})
    return result, out


def csv_frame(result: Any) -> pd.DataFrame:
    """Return the result's CSV frame with :data:`CSV_COLUMNS_FIRST` first and without the ``is_*`` columns."""
    frame = result.to_csv_frame()
    first = [c for c in CSV_COLUMNS_FIRST if c in frame.columns]
    rest = [c for c in frame.columns if c not in first and not c.startswith("is_")]
    return frame[first + rest]


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere classify`` on a snapshot or a plain table, write the CSV; exit code 0."""
    from geo.classify import classify, save_result

    opts: dict[str, Any] = {"draws": args.draws, "seed": args.seed}
    if args.table:
        if not args.id_column:
            raise ValidationError(
                "--table needs --id-column",
                problems=[
                    Problem(
                        check="argument", message="name the id column of the table", detail={"field": "--id-column"}
                    )
                ],
            )
        result, out = classify_table_file(args.programme, args.table, args.id_column, **opts)
        stored = None
    else:
        from geo.pipeline.snapshot import load_snapshot

        snap = load_snapshot(args.snapshot, args.snapshot_version)
        table = snap.wide(level=args.level, year=args.year)
        meta = {"snapshot_version": snap.version, "level": args.level, "year": int(table["year"].iloc[0])}
        result = classify(table, args.programme, meta=meta, **opts)
        out = csv_frame(result)
        stored = None
        if not args.no_store:
            stored = save_result(result, Path(args.out).with_suffix(".json"))
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(out_path, index=False)
    t = result.table
    counts = {c: int(t[f"is_{c}"].sum()) for c in [str(x.get("id")) for x in result.definition.get("categories", [])]}
    print(
        f"classified {int((~t['is_extra']).sum())} areas with {result.definition_id} "
        f"(sha256 {result.definition_hash[:12]}); {int(t['classifiable'].sum())} classifiable",
        file=sys.stdout,
    )
    print("  categories: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"  wrote {out_path}")
    if stored is not None:
        print(f"  stored full result: {stored}")
    return 0
