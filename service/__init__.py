"""HTTP service and command-line adapters of Lebendige Quartiere.

``service.app.create_app`` builds the Flask application (imported lazily so that the CLI does not pay for Flask
and the snapshot machinery when it is not serving).
"""

from __future__ import annotations

from typing import Any


def create_app(config: dict[str, Any] | None = None) -> Any:
    """The Flask application, built by :func:`service.app.create_app` with ``config`` (imported only now)."""
    from service.app import create_app as _create

    return _create(config)
