"""Schema readings for the differential's JSON oracle: pure transforms, no validation.

* :func:`strict_schema`: the schema as ``strict_mode`` reads it (objects that declare
  members closed with ``unevaluatedProperties: false``), on both sides;
* :func:`xgrammar_reading`: the schema as XGrammar 0.2.9 reads it (it ignores the keywords
  beside a combinator), to name why XGrammar leaves an object open or refuses a value;
* smaller rewrites (``properties: {}`` dropped, nested ``$schema`` dropped) that each test
  one documented difference.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List

_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = (
    "items",
    "additionalItems",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
)


def strict_schema(schema: Any, closing_keyword: str = "unevaluatedProperties") -> Any:
    """The schema with objects and tuples closed as ``strict_mode`` reads it (both sides).

    Objects that declare members (``properties``, ``required`` or ``patternProperties``, on
    the object itself or in its ``allOf`` branches) but say nothing of additional ones get
    ``closing_keyword: false``; a ``required`` name counts as declared (as ``name: true``).
    Objects that declare none (``{"type": "object"}``, ``{}``) stay open, as XGrammar and
    xgram read it. ``anyOf``/``oneOf`` branches of an object that declares members are read
    together with it (its closing sees their properties); elsewhere each branch is closed on
    its own. Tuples (``prefixItems`` or a list ``items``) without a rest schema get no more
    items.
    """
    out = {} if schema is True else copy.deepcopy(schema)  # `true` admits any JSON
    _close(out, closing_keyword, root={"schema": copy.deepcopy(out), "inlined": 0})
    return out


_MEMBER_KEYWORDS = ("properties", "required", "patternProperties")
_OPEN_KEYWORDS = ("additionalProperties", "unevaluatedProperties", "patternProperties")


def _declares_members(node: Any, root: Any = None, depth: int = 0) -> bool:
    """``node`` (or an ``allOf`` branch, through local ``$ref``) declares object members."""
    node = _deref(node, root) if root is not None else node
    if not isinstance(node, dict) or depth > 8:
        return False
    branches = node.get("allOf") if isinstance(node.get("allOf"), list) else []
    return any(k in node for k in _MEMBER_KEYWORDS) or any(
        _declares_members(b, root, depth + 1) for b in branches
    )


_SAME_OBJECT_LISTS = ("allOf", "anyOf", "oneOf")
_SAME_OBJECT_ONE = ("if", "then", "else", "not")


def _same_object_parts(node: Dict[str, Any]) -> List[Any]:
    """Subschemas that apply to the same instance as ``node`` (combinators, dependencies)."""
    parts: List[Any] = []
    for key in _SAME_OBJECT_LISTS:
        parts += node.get(key) if isinstance(node.get(key), list) else []
    parts += [node.get(key) for key in _SAME_OBJECT_ONE if isinstance(node.get(key), dict)]
    for key in ("dependentSchemas", "dependencies"):
        if isinstance(node.get(key), dict):
            parts += [v for v in node[key].values() if isinstance(v, dict)]
    return parts


def _required_names(node: Any, depth: int = 0) -> List[str]:
    """``required`` names of ``node`` and of the subschemas that apply to the same object."""
    if not isinstance(node, dict) or depth > 8:
        return []
    names = [n for n in node.get("required") or [] if isinstance(n, str)]
    for key in ("dependentRequired", "dependencies"):
        if isinstance(node.get(key), dict):
            names += [n for v in node[key].values() if isinstance(v, list) for n in v]
            names += [n for n in node[key] if isinstance(n, str)]
    for part in _same_object_parts(node):
        names += _required_names(part, depth + 1)
    return list(dict.fromkeys(names))


def _close(node: Any, keyword: str, merged: bool = False, root: Any = None) -> None:
    """Close ``node`` and its subschemas; a branch read with its parent (``merged``) only below.

    A local ``$ref`` in a merged branch is inlined (``allOf: [copy of the target]``): the
    target is read with the object that refers to it, not closed on its own.
    """
    if not isinstance(node, dict):
        return
    inline = merged and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")
    if inline and root["inlined"] < 200:  # recursion through merged refs ends somewhere
        root["inlined"] += 1
        target = _deref({"$ref": node["$ref"]}, root["schema"])
        if isinstance(target, dict) and "$ref" not in target:
            del node["$ref"]
            node.setdefault("allOf", []).append(copy.deepcopy(target))
    is_object = _declares_members(node, root["schema"])
    if is_object and not merged and not any(k in node for k in _OPEN_KEYWORDS):
        node[keyword] = False
        if keyword == "unevaluatedProperties" and _required_names(node):
            declared = node.get("properties") if isinstance(node.get("properties"), dict) else {}
            extra = {n: True for n in _required_names(node) if n not in declared}
            node["properties"] = {**declared, **extra}
    if "prefixItems" in node and "items" not in node and "unevaluatedItems" not in node:
        node["items"] = False
    if isinstance(node.get("items"), list) and "additionalItems" not in node:
        node["additionalItems"] = False
    for key in _SUBSCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            for sub in node[key].values():
                _close(sub, keyword, root=root)
    if isinstance(node.get("dependentSchemas"), dict):
        for sub in node["dependentSchemas"].values():
            _close(sub, keyword, merged=is_object or merged, root=root)
    # Parts read with the object: allOf always; the rest when the object (or an enclosing
    # one) declares members, so that its closing sees their properties.
    together = is_object or merged
    for key in _SUBSCHEMA_LISTS:
        if isinstance(node.get(key), list):
            for sub in node[key]:
                joined = key == "allOf" or (together and key != "prefixItems")
                _close(sub, keyword, merged=joined, root=root)
    for key in _SUBSCHEMA_ONE:
        sub = node.get(key)
        for s in sub if isinstance(sub, list) else [sub]:
            _close(s, keyword, merged=together and key in _SAME_OBJECT_ONE, root=root)
    if isinstance(node.get("dependencies"), dict):
        for sub in node["dependencies"].values():
            _close(sub, keyword, merged=together, root=root)


def _without_dialects(node: Any) -> Any:
    """The schema less every ``$schema`` (a nested one switches jsonschema's dialect too)."""
    if isinstance(node, list):
        return [_without_dialects(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {k: _without_dialects(v) for k, v in node.items() if k != "$schema"}


def _required_without_properties(node: Any) -> bool:
    """Some object schema lists ``required`` names and declares no ``properties``."""
    if isinstance(node, list):
        return any(map(_required_without_properties, node))
    if not isinstance(node, dict):
        return False
    if node.get("required") and "properties" not in node and node.get("type") == "object":
        return True
    return any(_required_without_properties(v) for v in node.values())


_COMBINATORS = ("$ref", "anyOf", "oneOf", "allOf")  # in the order XGrammar picks one
_KEPT_BESIDE_COMBINATOR = ("$defs", "definitions", "$schema", "$id", "id")


def xgrammar_reading(node: Any) -> Any:
    """The schema as XGrammar 0.2.9 reads it: beside a combinator, every other keyword is gone.

    Where a schema has ``$ref``, ``anyOf``, ``oneOf`` or ``allOf``, XGrammar follows the first
    of them and ignores its siblings (``properties``, ``required``, ``type`` and the other
    combinators); ``oneOf`` is read as ``anyOf``; an ``allOf`` of several branches admits
    any value, as does a branch with ``required`` but no ``type`` or ``properties``.
    Checked on xgrammar 0.2.9: ``{"type": "object", "properties": {"a": {"type":
    "integer"}}, "oneOf": [{"required": ["a"]}]}`` accepts ``{"a": "x"}`` and ``1``;
    ``{"type": "object", "allOf": [{"properties": ...}, {"properties": ...}]}`` accepts
    ``1``.
    """
    if isinstance(node, list):
        return [xgrammar_reading(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: xgrammar_reading(v) for k, v in node.items()}
    winner = next((k for k in _COMBINATORS if k in out), None)
    if winner == "allOf" and isinstance(out["allOf"], list) and len(out["allOf"]) != 1:
        return {k: v for k, v in out.items() if k in _KEPT_BESIDE_COMBINATOR}  # any value
    if winner is not None:
        kept = {k: v for k, v in out.items() if k == winner or k in _KEPT_BESIDE_COMBINATOR}
        if winner == "oneOf":  # XGrammar reads oneOf as anyOf (branches may overlap)
            kept["anyOf"] = kept.pop("oneOf")
        return kept
    if "required" in out and not any(k in out for k in ("type", "properties")):
        del out["required"]
    return out


def _without_empty_properties(node: Any) -> Any:
    """The schema less every ``"properties": {}`` (neutral, except that it closes nothing)."""
    if isinstance(node, list):
        return [_without_empty_properties(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {
        k: _without_empty_properties(v)
        for k, v in node.items()
        if not (k == "properties" and v == {})
    }


def _deref(node: Any, root: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/...``) a few times."""
    for _ in range(8):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref = node["$ref"]
        if not ref.startswith("#"):
            return node
        target = root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                return node
        node = target
    return node


def with_anchored_patterns(node: Any) -> Any:
    """The schema with every ``pattern`` matched whole (``^(?:p)$``), as XGrammar reads it."""
    if isinstance(node, list):
        return [with_anchored_patterns(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: with_anchored_patterns(v) for k, v in node.items()}
    if isinstance(node.get("pattern"), str):
        out["pattern"] = f"^(?:{node['pattern']})$"
    return out
