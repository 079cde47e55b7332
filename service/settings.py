"""Every configuration key of the service, declared once with its type, default and meaning.

A key (``SNAPSHOTS``, ``PAGES``, ...) is taken from the mapping given to ``create_app(config)`` (or from the
command line's options), else from the environment variable ``QUARTIERE_<KEY>``, else from its default here.
:func:`load_settings` is the one place the environment is read and parsed:

- booleans: ``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off`` (any case);
- numbers as Python writes them (``100000``, ``100_000``, ``0.5``); no ``inf`` or ``nan``;
- lists as JSON (``["https://a.example"]``) or comma-separated (``https://a.example, https://b.example``);
- objects (``MAP_CONFIG``) as JSON;
- an empty variable counts as not set.

A value that does not parse is a :class:`SettingsError` naming the variable (``quartiere serve`` and the other
commands print it and exit with status 2). An unknown ``QUARTIERE_*`` variable (a typo) gives one
:class:`SettingsWarning` naming it and the closest known key. The README's configuration table lists exactly
these keys (``tests/service/test_settings.py`` compares the two; :func:`markdown_table` writes the table).

This module imports nothing heavy: the gunicorn master and the nginx supervisor of ``quartiere serve`` use it.
"""

from __future__ import annotations

import difflib
import json
import os
import types
import typing
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from geo.config import DEFAULT_PROGRAMME, DEFAULT_SNAPSHOTS, PROGRAMMES_DIR, REPO_ROOT
from geo.errors import UsageError

PREFIX = "QUARTIERE_"
#: ``QUARTIERE_*`` variables that are no setting of the service and not warned about: the test suite's browser
#: (tests/conftest.py) and the virtualenv of scripts/test
OTHER_VARIABLES = frozenset({"QUARTIERE_CHROMIUM", "QUARTIERE_TEST_VENV"})

#: the environment warnings already given (``warnings.warn_explicit``'s registry)
_WARNED: dict[Any, Any] = {}

CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class SettingsError(UsageError, ValueError):
    """A configuration value that cannot be used; the message names the variable (or key) and the value."""


class SettingsWarning(UserWarning):
    """An environment variable ``QUARTIERE_*`` that names no setting (most likely a typo)."""


class Settings(BaseModel):
    """The service's configuration: one field per key (the key is the field's name in capitals)."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=str.upper, populate_by_name=True)

    snapshots: Path = Field(DEFAULT_SNAPSHOTS, description="snapshots folder with CURRENT")
    programme: Path = Field(DEFAULT_PROGRAMME, description="official programme definition (YAML)")
    api_token: str | None = Field(None, description="bearer token for the writing endpoints (none: writing is "
                                                    "disabled)")
    instance: Path | None = Field(None, description="instance folder: scenario database, caches (none: Flask's "
                                                    "instance folder)")
    max_content_length: int = Field(32 * 1024 * 1024, ge=1, description="request body limit in bytes (32 MiB); "
                                    "the front's (nginx) limit is this + 1 MiB")
    batch_max_rows: int = Field(100_000, ge=1, description="rows per batch request")
    polygon_max_vertices: int = Field(10_000, ge=3, description="vertices per drawn area")
    cors_origins: list[str] = Field([], description="origins allowed to call the API from a browser, `*` for any "
                                                    "(none: no CORS headers)")
    reload_interval: float = Field(1.0, ge=0, allow_inf_nan=False, description="seconds between looks at CURRENT")
    pages: bool = Field(True, description="serve the HTML pages (false: an API-only server)")
    content_security_policy: str = Field(CONTENT_SECURITY_POLICY, description="the CSP header of responses that "
                                         "set none of their own (the pages set theirs, with a nonce)")
    address_file: Path | None = Field(None, description="offline street search: official house coordinates "
                                      "(`;`-separated CSV) or OpenStreetMap address points (GeoJSON)")
    geocoder_url: str | None = Field(None, description="a Nominatim- or Photon-compatible geocoding server for "
                                     "address search")
    geocoder_kind: Literal["nominatim", "photon"] = Field("nominatim", description="the kind of `GEOCODER_URL`")
    geocoder_timeout: float = Field(2.0, gt=0, allow_inf_nan=False, description="seconds before the geocoding "
                                    "server counts as failed")
    national_snapshots: Path | None = Field(None, description="national snapshots folder (`quartiere build "
                                            "--dataset germany`): adds the Germany collections and /national")
    national_programme: Path | None = Field(None, description="national screening definition (none: "
                                            "programmes/germany-screening.yml)")
    public_url: str | None = Field(None, description="the server's public base URL (with its path prefix); every "
                                   "absolute link is built from it (none: the URL the request was sent to)")
    map_config: dict[str, Any] = Field({}, description="overrides of the web map's configuration "
                                       "(`maps.DEFAULT_CONFIG`: scheme, classes, `tiles` and `attribution`)")
    scenarios_dir: Path = Field(PROGRAMMES_DIR, description="folder of draft definitions `<id>.yml` shown at "
                                "/scenarios/<id>")
    nginx: Path | None = Field(None, description="the nginx executable of the front of `quartiere serve` (none: "
                               "nginx on PATH or /usr/sbin/nginx)")
    data: Path | None = Field(None, description="official data folder of `quartiere build` (none: ../shared/data "
                              "beside the working directory or the repository; read by geo.config)")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return split_list(value) if isinstance(value, str) else value

    @field_validator("geocoder_kind", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        """An absolute http(s) URL without query or fragment, kept without its trailing slash."""
        if value is None or not value.strip():
            return None
        text = value.strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"PUBLIC_URL must be an absolute http(s) URL without query, e.g. "
                             f"https://quartiere.example.org, got {text[:80]!r}")
        return text

    def as_config(self) -> dict[str, Any]:
        """The values by key (``{"SNAPSHOTS": ..., ...}``), as Flask's ``app.config`` holds them."""
        return self.model_dump(by_alias=True)

    def as_mapping(self) -> Mapping[str, Any]:
        """A read-only mapping of :meth:`as_config` (``settings["PAGES"]``, ``settings.get("API_TOKEN")``)."""
        return types.MappingProxyType(self.as_config())


#: the declared keys and their fields
FIELDS = {str(info.alias): info for info in Settings.model_fields.values()}


def split_list(text: str) -> list[str]:
    """A list given as text: JSON (``["a", "b"]``) or comma-separated (``a, b``); blanks dropped."""
    if text.strip().startswith("["):
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("not a JSON list")
        return [str(v) for v in value]
    return [part.strip() for part in text.split(",") if part.strip()]


def load_settings(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of ``config`` over the environment (``os.environ`` unless given) over the defaults.

    Keys of ``config`` that are not declared are left out (Flask's own, e.g. ``TESTING``, go to ``app.config``
    apart); one that looks like a misspelt declared key gives a :class:`SettingsWarning`. Raises
    :class:`SettingsError` naming each variable or key whose value cannot be used.
    """
    env_values = _from_environment(os.environ if environ is None else environ)
    given = {}
    for key, value in (config or {}).items():
        if key in FIELDS:
            given[key] = value
        elif (close := closest_key(key)) is not None:
            warnings.warn(f"unknown setting {key} (not used); did you mean {close}?", SettingsWarning, stacklevel=2)
    try:
        return Settings.model_validate({**env_values, **given})
    except pydantic.ValidationError as exc:
        raise SettingsError(_explain(exc, env_keys=set(env_values) - set(given))) from None


def closest_key(name: str) -> str | None:
    """The declared key closest to ``name`` (difflib), or None when none is near."""
    found = difflib.get_close_matches(name.upper(), list(FIELDS), n=1, cutoff=0.6)
    return found[0] if found else None


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``QUARTIERE_*`` variables of ``environ`` by key; lists and objects parsed, the rest left as text."""
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(PREFIX) or name in OTHER_VARIABLES:
            continue
        key = name[len(PREFIX):]
        if key not in FIELDS:
            close = closest_key(key)
            hint = f"did you mean {PREFIX}{close}?" if close else "see the configuration table in README.md"
            # shown as "environment:0: SettingsWarning: ..." (no source line), once per variable and process
            warnings.warn_explicit(f"unknown environment variable {name} (not used); {hint}", SettingsWarning,
                                   "environment", 0, registry=_WARNED)
        elif raw.strip():
            values[key] = _parse(name, key, raw)
    return values


def _parse(name: str, key: str, raw: str) -> Any:
    kind = typing.get_origin(FIELDS[key].annotation)
    try:
        if kind is list:
            return split_list(raw)
        if kind is dict:
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("not a JSON object")
            return value
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise SettingsError(f"bad configuration: {name}={raw[:80]!r}: {exc} (type: {type_name(key)})") from None
    return raw.strip()


def _explain(exc: pydantic.ValidationError, *, env_keys: set[str]) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        key = str(error["loc"][0]) if error["loc"] else "?"
        where = f"{PREFIX}{key}" if key in env_keys else key
        shown = repr(error["input"])[:80]
        expected = type_name(key) if key in FIELDS else "no such setting"
        lines.append(f"{where}={shown}: {error['msg']} (type: {expected})")
    return "bad configuration: " + "; ".join(lines)


# --------------------------------------------------------------------------------------- the README's table

_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "text", Path: "path"}


def type_name(key: str) -> str:
    """The type of ``key`` in words, as the README's table shows it (e.g. ``path``, ``list of text``)."""
    annotation = FIELDS[key].annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is list:
        return "list of " + _TYPE_NAMES[args[0]]
    if origin is dict:
        return "JSON object"
    if origin is Literal:
        return " or ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return _TYPE_NAMES[args[0]]
    return _TYPE_NAMES[typing.cast(type, annotation)]


def default_text(key: str) -> str:
    """The default of ``key`` as the README's table shows it (``none``, a path relative to the repository)."""
    value = FIELDS[key].default
    if value is None or value == [] or value == {}:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Path):
        return str(value.relative_to(REPO_ROOT) if value.is_absolute() else value)
    return str(value)


def _cell(text: str) -> str:
    return text if text == "none" else f"`{text}`"


def markdown_table() -> str:
    """The README's configuration table, written from the declaration."""
    rows = ["| key | environment variable | type | default | meaning |", "|---|---|---|---|---|"]
    for key, info in FIELDS.items():
        rows.append(f"| `{key}` | `{PREFIX}{key}` | {type_name(key)} | {_cell(default_text(key))} | "
                    f"{info.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
