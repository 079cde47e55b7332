"""Scenarios for programme designers: run a draft definition, compare it with the official one, store it.

Storage is one SQLite file in the instance folder: WAL journal, ``synchronous=FULL`` and one transaction per
write, so a scenario whose POST was answered survives a SIGKILL of the server (the commit is on disk before
the answer is sent). An ``audit`` table records every write and every area decision (who, when, what hash).

A scenario's id is derived from the snapshot version and the definition hash: posting the same definition
against the same snapshot again returns the stored scenario instead of a copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from geo.classify import ClassificationResult, classify, compare_results, load_result, parse_definition
from geo.classify.definition import read_yaml
from geo.errors import DefinitionError, InputError, Problem, StorageError, StorageFullError, UnknownKeyError
from service.api.eligibility import clean, read_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    snapshot_version TEXT NOT NULL,
    definition_id TEXT NOT NULL,
    definition_hash TEXT NOT NULL,
    definition_json TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    result_json TEXT NOT NULL,
    answer_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_id TEXT,
    sha256 TEXT,
    snapshot_version TEXT
);
"""

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")


def storage_error(exc: sqlite3.OperationalError) -> StorageError:
    """The domain error of a failed SQLite operation: :class:`StorageFullError` when the disk is full."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL or "disk is full" in text or "database or disk is full" in text:
        return StorageFullError("the scenario store is full (no space left on the server's disk); nothing was "
                                "stored, try again later or ask the operator to free space",
                                problems=[Problem(check="storage_full", message=text[:200])])
    return StorageError(f"the scenario store cannot be used just now ({text[:200]}); try again later",
                        problems=[Problem(check="storage", message=text[:200])])


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ScenarioStore:
    """SQLite-backed scenario and audit storage (one short-lived connection per operation)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite's operational errors (disk full, I/O error) become :class:`StorageError`."""
        try:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                con.execute("PRAGMA synchronous=FULL")
                con.execute("PRAGMA busy_timeout=30000")
                yield con
            finally:
                con.close()
        except sqlite3.OperationalError as exc:
            raise storage_error(exc) from exc

    def put(self, record: Mapping[str, Any], *, actor: str) -> bool:
        """Insert ``record`` (keys of the ``scenarios`` table) and its audit row; False if the id exists."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                cur = con.execute(
                    "INSERT OR IGNORE INTO scenarios (id, created, snapshot_version, definition_id, "
                    "definition_hash, definition_json, answer_json, result_json, answer_sha256) "
                    "VALUES (:id, :created, :snapshot_version, :definition_id, :definition_hash, "
                    ":definition_json, :answer_json, :result_json, :answer_sha256)", dict(record))
                created = cur.rowcount == 1
                con.execute("INSERT INTO audit (at, actor, action, object_id, sha256, snapshot_version) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (now_iso(), actor, "scenario.create" if created else "scenario.repeat",
                             record["id"], record["definition_hash"], record["snapshot_version"]))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return created

    def get(self, scenario_id: str) -> dict[str, Any]:
        """The stored scenario's record without its definition (else :class:`UnknownKeyError`)."""
        with self._connect() as con:
            row = con.execute("SELECT id, created, snapshot_version, definition_id, definition_hash, "
                              "answer_json, result_json, answer_sha256 FROM scenarios WHERE id = ?",
                              (scenario_id,)).fetchone()
        if row is None:
            raise UnknownKeyError(f"no scenario with id {scenario_id!r}")
        keys = ("id", "created", "snapshot_version", "definition_id", "definition_hash", "answer_json",
                "result_json", "answer_sha256")
        return dict(zip(keys, row, strict=True))

    def result(self, scenario_id: str) -> ClassificationResult:
        """The stored scenario's classification result."""
        return ClassificationResult.from_dict(json.loads(self.get(scenario_id)["result_json"]))

    def definition(self, scenario_id: str) -> dict[str, Any]:
        """The stored scenario's definition (the mapping it was classified with)."""
        with self._connect() as con:
            row = con.execute("SELECT definition_json FROM scenarios WHERE id = ?", (scenario_id,)).fetchone()
        if row is None:
            raise UnknownKeyError(f"no scenario with id {scenario_id!r}")
        return dict(json.loads(row[0]))

    def recent(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest stored scenarios: id, created, snapshot version, definition id and title."""
        with self._connect() as con:
            rows = con.execute("SELECT id, created, snapshot_version, definition_id, definition_json FROM scenarios "
                               "ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [{"id": r[0], "created": r[1], "snapshot_version": r[2], "definition_id": r[3],
                 "title": str(json.loads(r[4]).get("title") or r[3])} for r in rows]

    def audit(self, actor: str, action: str, object_id: str | None, sha256: str | None,
              snapshot_version: str | None) -> None:
        """Append one entry (who did what to which object, when) to the audit trail."""
        with self._connect() as con:
            con.execute("INSERT INTO audit (at, actor, action, object_id, sha256, snapshot_version) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (now_iso(), actor, action, object_id, sha256, snapshot_version))

    def audit_trail(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` entries of the audit trail, newest first."""
        with self._connect() as con:
            rows = con.execute("SELECT seq, at, actor, action, object_id, sha256, snapshot_version FROM audit "
                               "ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        keys = ("seq", "at", "actor", "action", "object_id", "sha256", "snapshot_version")
        return [dict(zip(keys, r, strict=True)) for r in rows]


def parse_definition_body(body: bytes, content_type: str | None) -> Mapping[str, Any]:
    """Read a definition sent as JSON or YAML."""
    if not body.strip():
        raise InputError("the request body is empty; send a programme definition as JSON or YAML")
    ctype = (content_type or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the definition is not UTF-8 text: {exc}") from exc
    try:
        data = read_json(text, "the definition") if ctype == "application/json" else read_yaml(text)
    except yaml.YAMLError as exc:
        raise InputError(f"the definition is not valid YAML: {exc}",
                         problems=[Problem(check=getattr(exc, "check", "yaml"), message=str(exc))]) from exc
    if not isinstance(data, Mapping):
        raise DefinitionError(f"a programme definition is a mapping (object), got {type(data).__name__}",
                              problems=[Problem(check="definition", message="top level must be a mapping")])
    return data


def scenario_id(snapshot_version: str, definition_hash: str) -> str:
    """The scenario id: 16 hex digits of a hash of the snapshot version and the definition hash."""
    return hashlib.sha256(f"{snapshot_version}\n{definition_hash}".encode()).hexdigest()[:16]


def _records(frame: Any) -> list[dict[str, Any]]:
    return clean(frame.to_dict("records"))


def run_scenario(data: Mapping[str, Any], *, wide: Any, official: ClassificationResult,
                 snapshot_version: str) -> tuple[dict[str, Any], ClassificationResult]:
    """Validate ``data``, classify the snapshot's table with it and compare with the official result."""
    definition = parse_definition(data, source_name="request body")
    draft = classify(wide, definition, meta={"snapshot_version": snapshot_version, "scenario": True})
    comparison = compare_results(official, draft)
    table = draft.table[~draft.table["is_extra"]]
    cols = [c for c in ("key", "name", "city", "classifiable", "classifiable_reason", "status_index",
                        "status_class", "dynamics_index", "dynamics_class", "matrix_cell", "categories",
                        "stability", "borderline", "budget_eur", "population") if c in table.columns]
    sid = scenario_id(snapshot_version, definition.hash)
    answer = {
        "id": sid,
        "created": now_iso(),
        "snapshot_version": snapshot_version,
        "definition": {"id": definition.id, "version": definition.version, "title": definition.title,
                       "hash": definition.hash},
        "official": {"id": official.definition_id, "hash": official.definition_hash},
        "results": _records(table[cols]),
        "comparison": {
            "categories": _records(comparison.categories),
            "areas": _records(comparison.areas),
            "budget": _records(comparison.budget),
        },
        "policy": draft.policy,
        "links": {"self": f"/api/v1/scenarios/{sid}",
                  "download_csv": f"/api/v1/downloads/classification.csv?scenario={sid}"},
    }
    return answer, draft


def store_scenario(store: ScenarioStore, answer: Mapping[str, Any], draft: ClassificationResult,
                   *, actor: str) -> tuple[dict[str, Any], bool]:
    """Store a scenario answer; return the stored answer (the first one for a repeated id) and ``created``."""
    text = json.dumps(answer, ensure_ascii=False, allow_nan=False)
    record = {
        "id": answer["id"], "created": answer["created"], "snapshot_version": answer["snapshot_version"],
        "definition_id": answer["definition"]["id"], "definition_hash": answer["definition"]["hash"],
        "definition_json": json.dumps(draft.definition, ensure_ascii=False, default=str),
        "answer_json": text, "result_json": draft.to_json(),
        "answer_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
    created = store.put(record, actor=actor)
    stored = json.loads(store.get(answer["id"])["answer_json"])
    return stored, created


def load_scenario_result(store: ScenarioStore, scenario_id_: str) -> ClassificationResult:
    return store.result(scenario_id_)


__all__ = ["ScenarioStore", "load_result", "parse_definition_body", "run_scenario", "scenario_id",
           "store_scenario"]
