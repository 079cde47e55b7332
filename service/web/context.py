"""The app's services for the code that answers requests.

The snapshot state of this request and the services (holder, scenario store, settings) the factory put on the app.

Routes, pages and adapters import these from here, never from :mod:`service.app` (which imports every
blueprint): that keeps the import graph free of circles.
"""

from __future__ import annotations

from flask import current_app, request

from service.api.scenarios import ScenarioStore
from service.api.state import ServiceState, StateHolder
from service.settings import Settings


class Services:
    """What the routes need besides Flask: the snapshot holder and the scenario store."""

    def __init__(self, holder: StateHolder, store: ScenarioStore, settings: Settings) -> None:
        self.holder = holder
        self.store = store
        #: every declared key by name, read-only (``settings["PAGES"]``); typed: ``config``
        self.settings = settings.as_mapping()
        self.config = settings


def services() -> Services:
    """The services the factory put on the current app."""
    return current_app.extensions["quartiere"]


def services_if_any() -> Services | None:
    """The app's services, or None for an app built without them (the pages blueprint on its own, in tests)."""
    return current_app.extensions.get("quartiere")


def state() -> ServiceState:
    """The snapshot state of this request (fixed for the whole request; its version goes in the header)."""
    env = request.environ
    st = env.get("quartiere.state")
    if st is None:
        st = env["quartiere.state"] = current_app.extensions["quartiere"].holder.state
    return st


__all__ = ["Services", "services", "services_if_any", "state"]
