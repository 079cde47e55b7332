"""The ``quartiere`` command: one entry point composing the subcommands.

The CLI is an adapter like the HTTP service, so it lives in ``service``; each subcommand is a module in
``service/commands`` with ``add_parser`` and ``run``. Deliberate errors become a message on
stderr and exit code 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from geo.errors import QuartiereError

COMMAND_MODULES = (
    "service.commands.build",
    "service.commands.prune",
    "service.commands.info",
    "service.commands.classify",
    "service.commands.compare",
    "service.commands.national",
    "service.commands.proxies",
    "service.commands.designations",
    "service.commands.schema",
    "service.commands.serve",
    "service.commands.report",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``quartiere`` argument parser with a subcommand for each module of :data:`COMMAND_MODULES` present."""
    parser = argparse.ArgumentParser(prog="quartiere", description="Lebendige Quartiere: districts, indicators "
                                     "and eligibility for Bremen and Bremerhaven")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
        module.add_parser(sub)
    return parser


def _styler(name: str, frame: Any) -> Any:
    """The QGIS styles of a GeoPackage layer (:func:`maps.qgis.style_layer`; imported when first used)."""
    from maps.qgis import style_layer

    return style_layer(name, frame)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``quartiere`` command with ``argv`` (default: ``sys.argv[1:]``); return its exit code.

    A :class:`~geo.errors.QuartiereError` is printed as ``error: ...`` on stderr with exit code 2; Ctrl-C gives 130.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.styler = _styler  # geo never imports maps: the adapter composes them (service.commands.build publishes)
    try:
        return int(args.func(args))
    except QuartiereError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
