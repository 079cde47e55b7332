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
