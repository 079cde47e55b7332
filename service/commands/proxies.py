"""``quartiere proxies``: how well the series Bremerhaven has track SGB II across Bremen's Ortsteile.

    quartiere proxies --snapshot snapshots [--target sgb2_u65_pct] [--out proxies.csv]

Prints one line per candidate series (Spearman rho with its 95 % bootstrap interval, the years compared and
the verdict use / weak / reject, see :mod:`geo.analysis.proxies`) - the evidence behind the Bremerhaven basis of
``programmes/lebendige-quartiere.yml``.
"""

from __future__ import annotations

import argparse

from geo.config import DEFAULT_SNAPSHOTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``proxies`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("proxies", help="rank correlations of Bremerhaven's series with SGB II across Bremen")
    p.add_argument("--snapshot", default=str(DEFAULT_SNAPSHOTS), help="snapshots folder")
    p.add_argument("--version", dest="snapshot_version", help="snapshot version other than CURRENT")
    p.add_argument("--target", default="sgb2_u65_pct", help="need series the candidates must track")
    p.add_argument("--out", help="also write the table as CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere proxies``: print the rank correlations of the candidate series with the target; exit code 0."""
    from geo.analysis.proxies import proxy_correlations
    from geo.errors import InputError, Problem
    from geo.pipeline.snapshot import load_snapshot

    snap = load_snapshot(args.snapshot, args.snapshot_version)
    wide = snap.wide("ortsteil")
    if args.target not in wide.columns:
        raise InputError(f"--target {args.target!r} is no indicator of snapshot {snap.version}",
                         problems=[Problem(check="target", message=f"unknown indicator {args.target!r}")])
    ev = proxy_correlations(wide, target=args.target)
    t = ev.table
    target_year = wide.attrs.get("indicator_years", {}).get(args.target)
    print(f"Spearman rank correlation with {args.target} ({target_year}) across {ev.fit_city}'s Ortsteile "
          f"(>= 300 residents), 95 % bootstrap interval ({len(t)} candidates available for {ev.apply_city}):")
    for r in t.itertuples():
        print(f"  {r.indicator:<42} {r.year!s:>4}  n={r.n:<3} rho={r.rho:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}]  "
              f"{ev.apply_city}: {r.coverage_other_city}/{r.n_other_city}  {r.verdict}: {r.why}")
    if args.out:
        t.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return 0
