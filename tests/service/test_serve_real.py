"""The shipped ``quartiere serve`` as a user runs it (scripts/run: 2 workers, 4 threads, nginx front), started
again and again beside a CPU-burning process: every start answers every page.

The start-up deadlock this guards against: the gunicorn master used to build the app "to fail fast", which
started threads; the forked workers inherited locks held by threads that do not exist in them and their
requests hung forever. Now the master only reads CURRENT and the manifest, and has exactly one thread.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import missing_tool
from tests.servers import REPO, free_port, serve_app

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

QUARTIERE = Path(sys.executable).parent / "quartiere"
PATHS = ("/", "/check", "/monitoring", "/districts/04011373", "/table")
STARTS = 10
REQUESTS = 25
REQUEST_TIMEOUT = 15.0
#: one start may take this long on a busy 2-core machine (both workers import and load the snapshot)
START_TIMEOUT = 150.0
#: the whole loop must finish within this (a fail-safe: a hang must fail the test, not the CI job's clock)
TOTAL_TIMEOUT = 15 * 60.0


@pytest.fixture(scope="module")
def quartiere() -> str:
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin") or os.environ.get("QUARTIERE_NGINX")):
        missing_tool("nginx not found (Debian package nginx; scripts/install-system-deps.sh)")
    assert QUARTIERE.exists(), f"{QUARTIERE} missing: pip install -e ."
    return str(QUARTIERE)


@pytest.fixture()
def cpu_burner() -> Iterator[subprocess.Popen]:  # type: ignore[type-arg]
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield proc
    finally:
        proc.kill()  # this test's own burner, by its pid
        proc.wait(10)


def _processes(port: int) -> dict[int, tuple[int, list[str], int]]:
    """pid -> (ppid, argv, threads) of the serve processes of ``port``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
            if "service.commands.serve" not in argv or str(port) not in argv:
                continue
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            threads = len(list((entry / "task").iterdir()))
        except (OSError, ValueError):
            continue
        found[int(entry.name)] = (ppid, argv, threads)
    return found


def _get(url: str) -> tuple[str, int, float]:
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as r:
        r.read()
        return url, r.status, time.monotonic() - start


def test_every_start_answers_every_page_beside_a_cpu_burner(quartiere: str, snapshots_dir: Path,
                                                            tmp_path: Path, cpu_burner: subprocess.Popen) -> None:  # type: ignore[type-arg]
    began = time.monotonic()
    report = []
    for attempt in range(STARTS):
        assert time.monotonic() - began < TOTAL_TIMEOUT, f"{attempt} starts took over {TOTAL_TIMEOUT:g} s"
        port = free_port()
        command = [quartiere, "serve", "--snapshots", str(snapshots_dir), "--instance", str(tmp_path / "instance"),
                   "--port", str(port), "--workers", "2", "--threads", "4"]
        started = time.monotonic()
        with serve_app(command, port, tmp_path / f"server-{attempt}.log", timeout=START_TIMEOUT) as base:
            ready = time.monotonic() - started
            processes = _processes(port)
            masters = {pid: info for pid, info in processes.items() if info[0] not in processes}
            assert len(masters) == 1, processes
            (supervisor, (_, _, supervisor_threads)), = masters.items()
            gunicorn = {pid: info for pid, info in processes.items() if info[0] == supervisor}
            assert len(gunicorn) == 1 and "--backend" in next(iter(gunicorn.values()))[1], processes
            gunicorn_threads = next(iter(gunicorn.values()))[2]
            assert (supervisor_threads, gunicorn_threads) == (1, 1), \
                f"the supervisor and the gunicorn master must not start threads: {processes}"
            urls = [base + PATHS[i % len(PATHS)] for i in range(REQUESTS)]
            t0 = time.monotonic()
            with ThreadPoolExecutor(REQUESTS) as pool:
                results = list(pool.map(_get, urls))
            took = time.monotonic() - t0
        assert all(status == 200 for _, status, _ in results), results
        log = (tmp_path / f"server-{attempt}.log").read_text(encoding="utf-8")
        assert re.search(rf"Lebendige Quartiere (läuft auf|is running at) http://127\.0\.0\.1:{port} ", log), log
        slowest = {path: max(s for u, _, s in results if u.endswith(path)) for path in PATHS}
        report.append((attempt, ready, took, slowest))
        assert all(s < REQUEST_TIMEOUT for s in slowest.values()), slowest
    total = time.monotonic() - began
    for attempt, ready, took, slowest in report:
        print(f"start {attempt}: ready after {ready:.1f} s, {REQUESTS} requests in {took:.2f} s; slowest "
              + ", ".join(f"{p} {s:.2f}" for p, s in slowest.items()))
    print(f"{STARTS} starts in {total:.0f} s")


def test_serve_without_current_exits_2_with_a_message(quartiere: str, tmp_path: Path) -> None:
    empty = tmp_path / "snapshots"
    empty.mkdir()
    done = subprocess.run([quartiere, "serve", "--snapshots", str(empty), "--port", str(free_port())], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert "CURRENT" in done.stderr and str(empty) in done.stderr and "quartiere build" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_the_ready_line_speaks_the_locale_and_gives_an_address_a_browser_opens() -> None:
    from service.commands.serve import ready_line

    assert ready_line("127.0.0.1", 8000, environ={}) == ("Lebendige Quartiere läuft auf http://127.0.0.1:8000 "
                                                         "(lauscht auf 127.0.0.1:8000; beenden mit Strg+C)")
    assert ready_line("0.0.0.0", 9000, environ={"LANG": "en_GB.UTF-8"}).startswith(
        "Lebendige Quartiere is running at http://127.0.0.1:9000 (listening on 0.0.0.0:9000")
    assert "http://[::1]:8000" in ready_line("::", 8000, environ={"LC_ALL": "de_DE.UTF-8", "LANG": "en_US"})
