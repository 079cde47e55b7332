"""``quartiere schema [--out FILE]``: the JSON Schema of a programme definition, for editors and validators."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``schema`` subcommand to the CLI's subparsers."""
    p = sub.add_parser("schema", help="print (or write) the JSON Schema of a programme definition")
    p.add_argument("--out", help="write the schema to this file instead of printing it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``quartiere schema``: print the programme definition's JSON Schema or write it to ``--out``."""
    from geo.classify.schema import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0
