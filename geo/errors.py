"""Typed domain errors.

Every error the library raises on purpose derives from :class:`QuartiereError`. None of them knows about
HTTP: ``service/web/problems.py`` maps each class to a status code in one place, and the CLI maps them to exit
codes. Errors that concern several findings at once carry the full list in ``problems``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding of a validation: where, what, and how bad.

    Parameters
    ----------
    check
        Short machine-readable id of the check, e.g. ``"crs"`` or ``"duplicate_key"``.
    message
        Plain-language description naming the file and the problem.
    severity
        ``"error"`` (stops a build) or ``"warning"`` (recorded, build continues).
    file
        The input file concerned, if any.
    key
        The district key concerned, if any.
    """

    check: str
    message: str
    severity: str = "error"
    file: str | None = None
    key: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The problem as a JSON-ready mapping, without the fields that are empty (``None`` or ``{}``)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}

    def __str__(self) -> str:
        # a reader's message often begins with the path already: do not print it twice
        where = f"{self.file}: " if self.file and not self.message.startswith(self.file) else ""
        return f"[{self.severity}] {where}{self.message}"


class QuartiereError(Exception):
    """Base class of all deliberate errors of the library."""

    def __init__(self, message: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message, *(f"  - {p}" for p in self.problems)]
        return "\n".join(lines)


class DataNotFoundError(QuartiereError):
    """The official data folder or one of its files does not exist."""


class InputError(QuartiereError):
    """An input file exists but cannot be read as the format it should have."""


class ValidationError(QuartiereError):
    """Input data were read but break one or more rules; ``problems`` lists every finding."""


class DefinitionError(QuartiereError):
    """A programme definition is invalid; ``problems`` has one entry per wrong field."""


class UnknownKeyError(QuartiereError):
    """A district key, scenario id or other identifier does not exist."""


class OutOfAreaError(QuartiereError):
    """A location lies outside both cities."""


class CRSError(QuartiereError):
    """A coordinate reference system is missing, unknown or not the expected one."""


class GeometryError(QuartiereError):
    """A geometry is broken, empty, of the wrong type or too large."""


class LimitError(QuartiereError):
    """A request is larger than a configured limit (rows, vertices, bytes)."""


class SnapshotError(QuartiereError):
    """A snapshot folder is missing, incomplete or cannot be published."""


class ProductMissingError(SnapshotError):
    """A published snapshot version lacks a product the service reads (an older build): rebuild it."""


class StorageError(QuartiereError):
    """Stored data (the scenario database) cannot be read or written just now."""


class StorageFullError(StorageError):
    """The disk (or the database's size limit) is full: nothing more can be stored."""


class UsageError(QuartiereError):
    """Options that do not go together."""
