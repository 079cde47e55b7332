r"""``quartiere report``: one self-contained HTML report for a programme year.

::

    quartiere report --snapshots snapshots --programme programmes/lebendige-quartiere.yml --year 2023 \
        --out report.html [--lang en] [--static-map]

The file needs no network: styles, charts, the map and its library are inlined. A missing snapshot or programme
definition, or a year without data, ends with a message on stderr and exit code 2 (``service.cli``).
"""

from __future__ import annotations

import argparse
import sys

from service.settings import default_text, load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("report", help="write one self-contained HTML report for a programme year")
    p.add_argument("--snapshots", help="snapshots folder with CURRENT (default: $QUARTIERE_SNAPSHOTS, else "
                                       f"{default_text('SNAPSHOTS')})")
    p.add_argument("--version", dest="snapshot_version", help="snapshot version other than CURRENT")
    p.add_argument("--programme", help="programme definition (YAML; default: $QUARTIERE_PROGRAMME, else "
                                       f"{default_text('PROGRAMME')})")
    p.add_argument("--year", type=int, help="programme year (default: the latest year of the snapshot)")
    p.add_argument("--lang", choices=["de", "en"], default="de", help="language (default: %(default)s)")
    p.add_argument("--static-map", action="store_true",
                   help="draw a static SVG map instead of the interactive (inlined Leaflet) map")
    p.add_argument("--out", required=True, help="output HTML file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere report``: write the HTML report for a programme year; exit code 0."""
    from service.report import write_report

    given = {"SNAPSHOTS": args.snapshots, "PROGRAMME": args.programme}
    settings = load_settings({key: value for key, value in given.items() if value is not None})
    path = write_report(settings.snapshots, settings.programme, args.out, version=args.snapshot_version, year=args.year,
                        lang=args.lang, map_mode="static" if args.static_map else "interactive")
    size = path.stat().st_size
    print(f"wrote {path} ({size / 1e6:.1f} MB)", file=sys.stdout)
    return 0
