"""Fixtures for the national dataset: the real files (``../shared/data/de-*``) and one assembly per session.

Real-data tests are marked ``realdata``; like the Bremen ones they skip without the files on a developer machine
and fail when ``CI`` is set (through the shared ``data_dir`` fixture and :func:`national_dir`).
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def national_snapshot(national_assembly):  # type: ignore[no-untyped-def]
    """The assembly as an in-memory :class:`geo.pipeline.snapshot.Snapshot` (same ``wide`` tables as a published
    one)."""
    from geo.pipeline.snapshot import Snapshot

    a = national_assembly
    return Snapshot(path=Path("."), manifest={"years": a.years, "version": "in-memory"}, layers=a.layers,
                    indicators=a.indicators, designations=a.designations)


@pytest.fixture(scope="session")
def national_inputs(national_dir: Path):  # type: ignore[no-untyped-def]
    """The indicator inputs of three Länder (Niedersachsen, Bremen, Thüringen: the territorial changes)."""
    from geo.national.build import read_national

    return read_national(national_dir).inputs.for_lands(["03", "04", "16"])
