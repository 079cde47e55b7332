"""The one typed configuration (service.settings): defaults, the environment's forms, unknown and bad variables,
the README's table, and ``quartiere serve`` refusing a bad value at start."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from geo.errors import UsageError
from service.settings import (
    FIELDS,
    PREFIX,
    Settings,
    SettingsError,
    SettingsWarning,
    default_text,
    load_settings,
    markdown_table,
    type_name,
)
from tests.servers import REPO, free_port

QUARTIERE = Path(sys.executable).parent / "quartiere"


def test_defaults_are_the_declared_ones_and_the_environment_is_not_read_when_given(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QUARTIERE_PAGES", "false")
    settings = load_settings({}, environ={})
    assert settings.as_config() == {key: info.default for key, info in FIELDS.items()}
    assert settings.pages is True and settings.cors_origins == [] and settings.api_token is None
    assert load_settings({}).pages is False  # os.environ by default


@pytest.mark.parametrize(("variable", "raw", "expected"), [
    ("PAGES", "false", False), ("PAGES", "0", False), ("PAGES", "No", False), ("PAGES", "OFF", False),
    ("PAGES", "true", True), ("PAGES", "1", True), ("PAGES", "yes", True),
    ("BATCH_MAX_ROWS", "250", 250), ("BATCH_MAX_ROWS", " 100_000 ", 100_000),
    ("MAX_CONTENT_LENGTH", "1000", 1000),
    ("RELOAD_INTERVAL", "0.25", 0.25), ("RELOAD_INTERVAL", "3", 3.0), ("GEOCODER_TIMEOUT", "0.5", 0.5),
    ("CORS_ORIGINS", "https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
    ("CORS_ORIGINS", '["https://a.example"]', ["https://a.example"]), ("CORS_ORIGINS", "*", ["*"]),
    ("MAP_CONFIG", '{"tiles": "https://tiles.example/{z}/{x}/{y}.png"}',
     {"tiles": "https://tiles.example/{z}/{x}/{y}.png"}),
    ("SNAPSHOTS", "/srv/snapshots", Path("/srv/snapshots")), ("NGINX", "/opt/nginx", Path("/opt/nginx")),
    ("API_TOKEN", "s3cret", "s3cret"), ("GEOCODER_KIND", "photon", "photon"), ("GEOCODER_KIND", "Photon", "photon"),
    ("PUBLIC_URL", "https://quartiere.example.org/geo/", "https://quartiere.example.org/geo"),
])
def test_environment_forms(variable: str, raw: str, expected: object) -> None:
    settings = load_settings({}, environ={PREFIX + variable: raw})
    value = settings.as_mapping()[variable]
    assert value == expected and type(value) is type(expected)


def test_an_empty_variable_counts_as_not_set() -> None:
    settings = load_settings({}, environ={"QUARTIERE_API_TOKEN": "", "QUARTIERE_BATCH_MAX_ROWS": " "})
    assert settings.api_token is None and settings.batch_max_rows == FIELDS["BATCH_MAX_ROWS"].default


def test_given_values_override_the_environment() -> None:
    env = {"QUARTIERE_PAGES": "false", "QUARTIERE_BATCH_MAX_ROWS": "5", "QUARTIERE_RELOAD_INTERVAL": "abc"}
    settings = load_settings({"PAGES": True, "RELOAD_INTERVAL": 2}, environ=env)
    assert (settings.pages, settings.batch_max_rows, settings.reload_interval) == (True, 5, 2.0)
    assert load_settings({"CORS_ORIGINS": "https://a.example,https://b.example"}, environ={}).cors_origins == [
        "https://a.example", "https://b.example"]


def test_settings_are_read_only() -> None:
    settings = load_settings({}, environ={})
    with pytest.raises(ValueError, match="frozen"):
        settings.pages = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.as_mapping()["PAGES"] = False  # type: ignore[index]


def test_an_unknown_variable_warns_once_naming_the_closest_key() -> None:
    env = {"QUARTIERE_RELOAD_INTERVALL": "2", "QUARTIERE_PAGES": "true", "QUARTIERE_CHROMIUM": "/usr/bin/chromium",
           "OTHER_THING": "1"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = load_settings({}, environ=env)
    assert [str(w.message) for w in caught] == [
        "unknown environment variable QUARTIERE_RELOAD_INTERVALL (not used); did you mean QUARTIERE_RELOAD_INTERVAL?"]
    assert caught[0].category is SettingsWarning
    assert settings.reload_interval == FIELDS["RELOAD_INTERVAL"].default
    with pytest.warns(SettingsWarning, match="QUARTIERE_XYZZY .*README"):
        load_settings({}, environ={"QUARTIERE_XYZZY": "1"})


def test_a_misspelt_given_key_warns_and_flask_keys_do_not() -> None:
    with pytest.warns(SettingsWarning, match="PAGE .*did you mean PAGES"):
        load_settings({"PAGE": False}, environ={})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_settings({"TESTING": True, "SECRET_KEY": "x"}, environ={})


@pytest.mark.parametrize(("variable", "raw"), [
    ("RELOAD_INTERVAL", "abc"), ("RELOAD_INTERVAL", "-1"), ("RELOAD_INTERVAL", "inf"), ("GEOCODER_TIMEOUT", "0"),
    ("BATCH_MAX_ROWS", "1.5"), ("BATCH_MAX_ROWS", "0"), ("MAX_CONTENT_LENGTH", "32MiB"), ("PAGES", "maybe"),
    ("GEOCODER_KIND", "google"), ("MAP_CONFIG", "[1, 2]"), ("MAP_CONFIG", "{tiles: x}"), ("CORS_ORIGINS", '["a"'),
    ("PUBLIC_URL", "quartiere.example.org"),
])
def test_a_bad_value_is_an_error_naming_the_variable(variable: str, raw: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({}, environ={PREFIX + variable: raw})
    message = str(caught.value)
    assert f"{PREFIX}{variable}={raw!r}" in message and f"type: {type_name(variable)}" in message, message
    assert isinstance(caught.value, UsageError)  # the command line's exit status 2


def test_a_bad_given_value_names_the_key() -> None:
    with pytest.raises(SettingsError, match=r"^bad configuration: POLYGON_MAX_VERTICES='many': .*integer"):
        load_settings({"POLYGON_MAX_VERTICES": "many"}, environ={"QUARTIERE_POLYGON_MAX_VERTICES": "12"})


def _readme_table() -> dict[str, tuple[str, str, str]]:
    """The README's configuration table: key -> (environment variable, type, default), backticks removed."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:4] == ["key", "environment variable", "type", "default"], header
    rows = {}
    for line in lines[2:]:
        cells = [cell.strip().strip("`") for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        assert cells[0] not in rows, f"README lists {cells[0]} twice"
        rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def test_readme_table_lists_exactly_the_declared_keys() -> None:
    table = _readme_table()
    assert set(table) - set(FIELDS) == set(), "README lists keys that are not declared"
    assert set(FIELDS) - set(table) == set(), "declared keys missing in the README (python -m service.settings)"
    for key, (variable, kind, default) in table.items():
        assert (variable, kind, default) == (PREFIX + key, type_name(key), default_text(key)), key


def test_every_key_has_a_description_and_the_generated_table_is_the_readme_s() -> None:
    assert all(info.description for info in Settings.model_fields.values())
    generated = {line.split("|")[1].strip().strip("`") for line in markdown_table().splitlines()[2:]}
    assert generated == set(_readme_table())


def test_the_front_reads_the_settings(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.web.front import BODY_SLACK, body_limit, nginx_binary

    monkeypatch.setenv("QUARTIERE_MAX_CONTENT_LENGTH", "1000")
    assert body_limit() == 1000 + BODY_SLACK
    monkeypatch.setenv("QUARTIERE_MAX_CONTENT_LENGTH", "lots")
    with pytest.raises(SettingsError, match="QUARTIERE_MAX_CONTENT_LENGTH='lots'"):
        body_limit()
    monkeypatch.delenv("QUARTIERE_MAX_CONTENT_LENGTH")
    monkeypatch.setenv("QUARTIERE_NGINX", "/nonexistent/nginx")
    with pytest.raises(UsageError, match="QUARTIERE_NGINX=/nonexistent/nginx: not an executable"):
        nginx_binary()


def _fake_snapshots(root: Path) -> Path:
    """The files ``check_snapshots`` looks at (CURRENT, manifest, GeoPackage present), nothing more."""
    (root / "v1").mkdir(parents=True)
    (root / "CURRENT").write_text("v1\n", encoding="utf-8")
    (root / "v1" / "manifest.json").write_text("{}", encoding="utf-8")
    (root / "v1" / "districts.gpkg").write_bytes(b"")
    return root


def test_serve_takes_programme_and_snapshots_from_the_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.commands.serve import add_arguments, check_config

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--no-front", "--port", str(free_port())])
    monkeypatch.setenv("QUARTIERE_SNAPSHOTS", str(_fake_snapshots(tmp_path / "snaps")))
    monkeypatch.setenv("QUARTIERE_PROGRAMME", str(tmp_path / "missing.yml"))
    with pytest.raises(UsageError, match=re.escape(f"--programme {tmp_path / 'missing.yml'}: file not found")):
        check_config(args)
    given = parser.parse_args(["--no-front", "--port", str(free_port()), "--programme",
                               str(REPO / "programmes" / "lebendige-quartiere.yml")])
    check_config(given)  # the option wins over the environment


@pytest.mark.realdata
def test_create_app_holds_the_typed_settings(snapshots_dir, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.app import create_app

    monkeypatch.setenv("QUARTIERE_BATCH_MAX_ROWS", "77")
    monkeypatch.setenv("QUARTIERE_POLYGON_MAX_VERTICES", "50")
    app = create_app({"SNAPSHOTS": str(snapshots_dir), "INSTANCE": str(tmp_path / "inst"), "TESTING": True,
                      "POLYGON_MAX_VERTICES": 60, "PAGES": "false"})
    services = app.extensions["quartiere"]
    assert services.config.batch_max_rows == 77 and services.settings["POLYGON_MAX_VERTICES"] == 60
    assert app.config["BATCH_MAX_ROWS"] == 77 and app.config["TESTING"] is True and app.config["PAGES"] is False
    assert set(FIELDS) <= set(app.config)
    assert "pages.index" not in app.view_functions and "national.page" in app.view_functions
    assert app.test_client().get("/").status_code == 404  # PAGES=false: no pages


@pytest.mark.parametrize("command", [[str(QUARTIERE), "serve"],  # as a user starts it
                                     [sys.executable, "-m", "service.commands.serve", "--no-front"]])  # the master
def test_serve_with_a_bad_value_exits_2_naming_it(command: list[str], tmp_path: Path) -> None:
    assert QUARTIERE.exists(), f"{QUARTIERE} missing: pip install -e ."
    env = {"PATH": "/usr/bin:/bin", "QUARTIERE_RELOAD_INTERVAL": "abc"}
    done = subprocess.run([*command, "--snapshots", str(tmp_path), "--port", str(free_port())],
                          env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2, done.stderr
    assert "error: bad configuration: QUARTIERE_RELOAD_INTERVAL='abc'" in done.stderr
    assert "Traceback" not in done.stderr
