"""``quartiere prune``: remove old snapshot versions, never CURRENT nor the newest ones."""

from __future__ import annotations

import argparse
import sys

from geo.config import DEFAULT_SNAPSHOTS

DEFAULT_KEEP = 5


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``prune`` subcommand to the CLI's subparsers."""
    helptext = "remove old snapshot versions (never CURRENT, never the newest ones, never while a build runs)"
    p = sub.add_parser("prune", help=helptext, description=helptext)
    p.add_argument("--snapshots", metavar="DIR", default=str(DEFAULT_SNAPSHOTS),
                   help="snapshots folder (default: %(default)s)")
    p.add_argument("--keep", metavar="N", type=int, default=DEFAULT_KEEP,
                   help="besides CURRENT, keep the N newest versions (default %(default)d)")
    p.add_argument("--dry-run", action="store_true", help="only print what would be removed")
    p.set_defaults(func=run)


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB ({n:,} bytes)"


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere prune``: remove (or with ``--dry-run`` list) old snapshot versions; exit code 0."""
    from geo.pipeline.publish import prune_versions

    result = prune_versions(args.snapshots, keep=args.keep, dry_run=args.dry_run,
                            warn=lambda msg: print(f"  [warning] {msg}", file=sys.stderr))
    verb = "would remove" if args.dry_run else "removed"
    for version, size in result.removed:
        print(f"{verb} {version} ({_size(size)})")
    print(f"{verb} {len(result.removed)} version(s), {'would free' if args.dry_run else 'freed'} "
          f"{_size(result.freed_bytes)}; kept {len(result.kept)} (CURRENT: {result.current or 'none'})")
    return 0
