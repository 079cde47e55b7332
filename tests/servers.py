"""Helpers shared by the tests that need a real server or a watched browser page.

``serve_app`` runs ``gunicorn 'service.app:create_app(CONFIG)'`` (or any command) on a free localhost port until
a readiness URL answers, and stops it afterwards; ``watched_context`` opens a Playwright context that aborts
every request leaving localhost and records console errors, page errors and dialogs for the test to check.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorn_command(config: dict[str, Any], port: int, *, workers: int = 1, threads: int = 4) -> list[str]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    return [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--timeout", "120", f"service.app:create_app({config!r})"]


@contextlib.contextmanager
def serve_app(command: list[str], port: int, log_path: Path, *, ready_path: str = "/api/v1/status",
              timeout: float = 90) -> Iterator[str]:
    """Run ``command`` (serving on ``port``) in its own process group; yield its base URL once ``ready_path``
    answers 200; stop the whole group afterwards."""
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"server exited with {proc.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(base + ready_path, timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"server did not answer {ready_path} within {timeout:g} s; see {log_path}")
                    time.sleep(0.3)
            yield base
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # this server's own process group only
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@dataclass
class Watch:
    """What a page did that tests must check: console errors, page errors, dialogs, outside requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests leaving localhost: {self.outside}"
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors
        assert self.dialogs == [], f"dialogs opened (injected script ran?): {self.dialogs}"


@contextlib.contextmanager
def watched_page(browser: Any, base_url: str, **context_options: Any) -> Iterator[Any]:
    """A new page whose requests leaving localhost are aborted and recorded in ``page.watch`` (a :class:`Watch`)."""
    options = {"viewport": {"width": 1280, "height": 800}, "locale": "de-DE"} | context_options
    context = browser.new_context(base_url=base_url, **options)
    watch = Watch()

    def route(r):  # type: ignore[no-untyped-def]
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            watch.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: watch.page_errors.append(str(e)))

    def on_dialog(d):  # type: ignore[no-untyped-def]
        watch.dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.watch = watch
    try:
        yield pg
    finally:
        context.close()
