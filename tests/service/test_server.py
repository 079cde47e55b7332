"""Through real processes: gunicorn via ``quartiere serve``, OGC API read by GDAL, SIGKILL durability, reload."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.service.conftest import TENEVER, TOKEN, free_port


def _start(snapshots: Path, instance: Path, port: int) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "QUARTIERE_API_TOKEN": TOKEN}
    cmd = [sys.executable, "-m", "service.cli", "serve", "--snapshots", str(snapshots), "--instance",
           str(instance), "--port", str(port), "--workers", "1", "--threads", "2"]
    proc = subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parents[2], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("server did not start within 90 s")


def _get(url: str) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:  # type: ignore[type-arg]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)  # the process group of this server only (started with its own session)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_gunicorn_serves_ogc_and_scenarios_survive_sigkill(snapshots_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    instance = tmp_path / "instance"
    proc = _start(snapshots_dir, instance, port)
    base = f"http://127.0.0.1:{port}"
    try:
        status, headers, body = _get(f"{base}/api/v1/eligibility?lon={TENEVER[0]}&lat={TENEVER[1]}")
        assert status == 200 and body["district"]["key"] == "04011373" and headers["X-Snapshot-Version"]
        status, headers, body = _get(f"{base}/api/v1/eligibility?lon=0&lat=0")
        assert status == 404 and headers["Content-Type"].startswith("application/problem+json")

        import pyogrio

        frame = pyogrio.read_dataframe(f"OAPIF:{base}/ogcapi", layer="ortsteile")
        assert len(frame) == 113 and "04011373" in set(frame["key"].astype(str))
        assert frame.crs.to_epsg() == 25832  # GDAL >= 3.7 reads the storageCrs the collection declares
        lon0, _, _, lat1 = frame.to_crs("OGC:CRS84").total_bounds
        assert lon0 > 8 and lat1 < 54

        draft = Path("programmes/lebendige-quartiere.yml").read_text(encoding="utf-8")
        draft = draft.replace("id: lebendige-quartiere", "id: survives-sigkill", 1)
        draft = draft.replace("draws: 1000", "draws: 20", 1)
        req = urllib.request.Request(f"{base}/api/v1/scenarios", data=draft.encode(), method="POST",
                                     headers={"Content-Type": "application/yaml", "Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=120) as r:
            assert r.status == 201
            written = json.loads(r.read())
    finally:
        _stop(proc, signal.SIGKILL)
    proc = _start(snapshots_dir, instance, port)
    try:
        status, _, again = _get(f"{base}/api/v1/scenarios/{written['id']}")
        assert status == 200 and again == written
    finally:
        _stop(proc)


def _copy_version(root: Path, new_root: Path) -> str:
    from geo.pipeline.publish import set_current
    from geo.pipeline.snapshot import current_version

    shutil.copytree(root, new_root)
    old = current_version(new_root)
    new = old + "-copy"
    src, dst = new_root / old, new_root / new
    shutil.copytree(src, dst)
    dst.chmod(0o755)
    manifest = dst / "manifest.json"
    manifest.chmod(stat.S_IRUSR | stat.S_IWUSR)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["version"] = new
    manifest.write_text(json.dumps(data), encoding="utf-8")
    set_current(new_root, new)
    return new


def test_switches_to_new_version_without_gap(snapshots_dir: Path, tmp_path: Path) -> None:
    from geo.pipeline.publish import set_current
    from geo.pipeline.snapshot import current_version
    from service.app import create_app

    root = tmp_path / "snaps"
    shutil.copytree(snapshots_dir, root)
    app = create_app({"SNAPSHOTS": str(root), "INSTANCE": str(tmp_path / "inst"), "PAGES": False,
                      "RELOAD_INTERVAL": 0.0})
    client = app.test_client()
    old = current_version(root)
    assert client.get("/api/v1/status").headers["X-Snapshot-Version"] == old
    new = _copy_version(root, tmp_path / "tmp-copy")
    shutil.copytree(tmp_path / "tmp-copy" / new, root / new)
    set_current(root, new)
    holder = app.extensions["quartiere"].holder
    seen = set()
    deadline = time.time() + 60
    while time.time() < deadline:  # every request is answered (old or new) while the new one loads
        r = client.get(f"/api/v1/eligibility?lon={TENEVER[0]}&lat={TENEVER[1]}")
        assert r.status_code == 200
        seen.add(r.headers["X-Snapshot-Version"])
        assert r.get_json()["snapshot_version"] == r.headers["X-Snapshot-Version"]
        if r.headers["X-Snapshot-Version"] == new:
            break
        holder.wait_for_reload(0.2)
    assert new in seen


def test_create_app_starts_no_thread(snapshots_dir: Path, tmp_path: Path) -> None:
    """Building the app starts no thread: nothing is computed in the background, and nothing a forked gunicorn
    worker could inherit half-done (a lock held by a thread that does not exist in the worker hung pages)."""
    script = f"""
import sys, threading
seen = []
start = threading.Thread.start
def watched(self, *a, **k):
    seen.append(all(m in sys.modules for m in ("libpysal.weights", "esda.moran", "tobler.area_weighted",
                                               "sklearn.cluster")))
    return start(self, *a, **k)
threading.Thread.start = watched
from service.app import create_app
create_app({{"SNAPSHOTS": {str(snapshots_dir)!r}, "INSTANCE": {str(tmp_path / "inst")!r}}})
print("threads", len(seen))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2], check=True).stdout
    assert "threads 0" in out
