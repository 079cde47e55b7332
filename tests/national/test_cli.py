"""The ``quartiere national`` subcommand's options (the lead wires the module into the CLI)."""

from __future__ import annotations

import argparse

import pytest

from service.commands import national


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quartiere")
    national.add_parser(p.add_subparsers(dest="command", required=True))
    return p


def test_lookup_options() -> None:
    args = _parser().parse_args(["national", "lookup", "--synthetic", "1000", "--engine", "dask", "--scheduler",
                                 "tcp://10.0.0.5:8786", "--memory-limit", "2GB", "--out", "pts"])
    assert args.func is national.run_lookup and args.synthetic == 1000 and args.engine == "dask"
    assert args.scheduler == "tcp://10.0.0.5:8786" and args.memory_limit == "2GB"


def test_classify_and_gisd_options() -> None:
    args = _parser().parse_args(["national", "classify", "--level", "kreis", "--out", "k.csv"])
    assert args.func is national.run_classify and args.programme.endswith("germany-screening.yml")
    assert _parser().parse_args(["national", "gisd"]).func is national.run_gisd
    with pytest.raises(SystemExit):
        _parser().parse_args(["national", "lookup", "--out", "x"])  # --points or --synthetic required
