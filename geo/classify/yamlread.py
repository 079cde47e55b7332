"""The one YAML reader of programme definitions: PyYAML's safe loader, bounded before anything is expanded.

Files, the command line and the service's scenario bodies all read definitions with :func:`read_yaml`.
"""

from __future__ import annotations

from typing import Any

import yaml

from geo.classify.schema_types import clip as _clip

#: limits of the YAML reader (:func:`read_yaml`), checked while composing, before anything is expanded
MAX_YAML_DEPTH = 32
MAX_YAML_NODES = 50_000


class DefinitionYAMLError(yaml.MarkedYAMLError):
    """YAML that is refused before it is expanded: aliases or anchors, too deep, too many nodes, bad values.

    A :class:`yaml.YAMLError`, so every reader of definitions reports it like any other YAML error; ``check``
    names the problem for :class:`~geo.errors.Problem`.
    """

    def __init__(self, problem: str, mark: Any = None, *, check: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.check = check


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader refusing aliases and anchors and limiting nesting and node count while composing.

    An alias bomb ("billion laughs") expands a few kilobytes into gigabytes only when aliases are resolved;
    refusing the alias event stops it before any expansion. The depth limit keeps the recursive composer far
    from Python's recursion limit.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            kind = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
            raise DefinitionYAMLError(f"YAML anchors and aliases are not accepted in a programme definition "
                                      f"(found {kind}{_clip(event.anchor, 40).strip(chr(39))}); write the "
                                      "values out", event.start_mark, check="yaml_alias")
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise DefinitionYAMLError(f"the YAML document has more than {MAX_YAML_NODES:,} nodes",
                                      event.start_mark, check="yaml_size")
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise DefinitionYAMLError(f"the YAML document is nested more than {MAX_YAML_DEPTH} levels deep",
                                          event.start_mark, check="yaml_depth")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_yaml(text: str) -> Any:
    """Parse YAML text with the safe loader, refusing aliases/anchors and bounding depth and size.

    The one YAML reader of programme definitions (files, the CLI and the service's scenario bodies).

    Raises
    ------
    yaml.YAMLError
        Syntax errors, and :class:`DefinitionYAMLError` for what is refused (``check`` says which).
    """
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except (ValueError, OverflowError) as exc:  # e.g. an int of more than 4,300 digits, a date like 2024-13-45
        raise DefinitionYAMLError(f"a value cannot be read: {str(exc)[:200]}", check="yaml_value") from None
    finally:
        loader.dispose()


