"""What the evaluation says, as codes with parameters: never sentences.

A :class:`Message` names one reason, caveat or verdict (``code``) and the figures it quotes (``params``); the
words for it, in German and English, are in the catalogue of :mod:`maps.i18n` (keys ``evaluation.<code>``) and
are put together by :mod:`maps.evaluation`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message", "as_records"]


@dataclass(frozen=True)
class Message:
    """One reason, caveat or verdict of the evaluation: a code and the figures it quotes."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """JSON-ready: ``{"code": ..., "params": {...}}``."""
        return {"code": self.code, "params": dict(self.params)}


def as_records(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """Messages as JSON-ready records (the published monitoring product)."""
    return [m.as_record() for m in messages]
