"""Schema loading and ``$ref`` resolution.

A schema document is indexed once: every sub-schema that declares ``$id`` opens a
new base URI, ``$anchor`` names a location, and JSON pointers address the rest.
References are resolved against the base URI in force where they appear, as
draft 2020-12 and draft-07 specify; remote documents are never fetched (a
reference to one is a :class:`~xgram.errors.SchemaError`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Dict, Tuple
from urllib.parse import unquote, urldefrag, urljoin

from ..errors import SchemaError

Location = Tuple[Any, str, str]  # (schema, base URI, JSON pointer)

_DEFAULT_BASE = "https://xgram.invalid/root.json"  # a scheme urljoin resolves against

# Keywords whose values are sub-schemas (a schema object, or a list/map of them).
_SCHEMA_MAP_KEYWORDS = (
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
)
_SCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_KEYWORDS = (
    "additionalProperties",
    "propertyNames",
    "items",
    "additionalItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
)
# The keywords that name a location (most schema objects have none).
_LOCATION_KEYWORDS = frozenset(("$id", "$anchor", "$dynamicAnchor"))
# How _index walks a keyword's value: a map, a list, or one schema (a list for "items").
_CHILD_KIND: Dict[str, int] = {
    **{k: 0 for k in _SCHEMA_MAP_KEYWORDS},
    **{k: 1 for k in _SCHEMA_LIST_KEYWORDS},
    **{k: 2 for k in _SCHEMA_KEYWORDS},
}


def load_schema(schema: Any) -> Any:
    """Turn a JSON string, a dict, a bool or a pydantic model class into a schema value.

    Parameters
    ----------
    schema : str, dict, bool or type
        The schema. A ``str`` is parsed as JSON; a class with
        ``model_json_schema`` (pydantic v2) or ``schema`` (v1) is asked for its schema.

    Returns
    -------
    dict or bool
        The schema as plain JSON values.

    """
    if isinstance(schema, (bytes, bytearray)):
        schema = schema.decode("utf-8")
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as e:
            raise SchemaError(f"the schema is not valid JSON: {e}") from None
    elif isinstance(schema, type):
        if hasattr(schema, "model_json_schema"):
            schema = schema.model_json_schema()
        elif hasattr(schema, "schema"):
            schema = schema.schema()
        else:
            raise SchemaError(f"cannot take a JSON schema from class {schema.__name__}")
    if not isinstance(schema, (dict, bool)):
        raise SchemaError(f"a schema must be an object or a boolean, got {type(schema).__name__}")
    return schema


def escape_pointer_token(token: str) -> str:
    """Escape one reference token of a JSON pointer (RFC 6901)."""
    if "~" not in token and "/" not in token:  # the common case: nothing to escape
        return token
    return token.replace("~", "~0").replace("/", "~1")


@lru_cache(maxsize=4096)
def join_defrag(base: str, ref: str) -> Tuple[str, str]:
    """``urldefrag(urljoin(base, ref))`` as ``(document, fragment)``.

    Cached: URL parsing is the costliest step of following a reference, and a
    schema repeats the same few references and bases.
    """
    doc, fragment = urldefrag(urljoin(base, ref))
    return doc, fragment


class SchemaIndex:
    """All addressable locations of one schema document.

    Parameters
    ----------
    root : dict or bool
        The root schema.

    """

    def __init__(self, root: Any) -> None:
        self.root = root
        declared = root.get("$schema", "") if isinstance(root, dict) else ""
        # Whether `$schema` names draft 2019-09 or later (else the draft is unknown or older).
        self.modern = isinstance(declared, str) and ("2019-09" in declared or "2020-12" in declared)
        self._resources: Dict[str, Location] = {}
        self._anchors: Dict[str, Location] = {}
        # (ref, base) -> target: resolution does not depend on where the $ref is
        # written, except for the pointer in an error (failures are not cached).
        self._resolved: Dict[Tuple[str, str], Location] = {}
        base = _DEFAULT_BASE
        if isinstance(root, dict) and isinstance(root.get("$id"), str):
            base = urljoin(_DEFAULT_BASE, root["$id"])
        self.root_base = urldefrag(base)[0]
        self._resources[self.root_base] = (root, self.root_base, "")
        self._index(root, self.root_base, "", 0)

    def _index(self, node: Any, base: str, pointer: str, depth: int) -> None:
        if depth > 200:
            raise SchemaError("the schema is nested too deeply (more than 200 levels)", "", pointer)
        if not isinstance(node, dict):
            return
        if not _LOCATION_KEYWORDS.isdisjoint(node):
            if isinstance(node.get("$id"), str) and pointer:
                new_base, fragment = join_defrag(base, node["$id"])
                base = new_base
                self._resources.setdefault(base, (node, base, pointer))
                if fragment and not fragment.startswith("/"):  # draft-07 "$id": "#name"
                    self._anchors.setdefault(f"{base}#{fragment}", (node, base, pointer))
            for key in ("$anchor", "$dynamicAnchor"):
                if isinstance(node.get(key), str):
                    self._anchors.setdefault(f"{base}#{node[key]}", (node, base, pointer))
        depth += 1
        for key, value in node.items():
            kind = _CHILD_KIND.get(key)
            if kind is None:  # not a sub-schema keyword: no pointer to build
                continue
            child_pointer = f"{pointer}/{key}"  # no keyword holds "~" or "/"
            if kind == 0:
                if isinstance(value, dict):
                    for name, sub in value.items():
                        self._index(
                            sub, base, f"{child_pointer}/{escape_pointer_token(name)}", depth
                        )
            elif isinstance(value, list):  # a list keyword, or draft-07 tuple "items"
                for i, sub in enumerate(value):
                    self._index(sub, base, f"{child_pointer}/{i}", depth)
            elif kind == 2:
                self._index(value, base, child_pointer, depth)

    def resolve(self, ref: str, base: str, pointer: str) -> Location:
        """Resolve ``ref`` written at ``pointer`` (with base URI ``base``).

        Returns
        -------
        tuple
            ``(schema, base URI, JSON pointer)`` of the target.

        """
        found = self._resolved.get((ref, base))
        if found is not None:
            return found
        found = self._resolve(ref, base, pointer)
        self._resolved[(ref, base)] = found
        return found

    def _resolve(self, ref: str, base: str, pointer: str) -> Location:
        doc, fragment = join_defrag(base, ref)
        if fragment and not fragment.startswith("/"):
            found = self._anchors.get(f"{doc}#{fragment}")
            if found is None:
                raise SchemaError(f"unknown anchor in reference {ref!r}", "$ref", pointer)
            return found
        resource = self._resources.get(doc)
        if resource is None:
            raise SchemaError(
                f"reference {ref!r} points outside this schema (remote references are not fetched)",
                "$ref",
                pointer,
            )
        node, node_base, node_pointer = resource
        if not fragment:
            return resource
        for raw in fragment.split("/")[1:]:
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise SchemaError(f"reference {ref!r} does not resolve", "$ref", pointer)
            node_pointer = f"{node_pointer}/{escape_pointer_token(token)}"
            if isinstance(node, dict) and isinstance(node.get("$id"), str):
                node_base = join_defrag(node_base, node["$id"])[0]
        return node, node_base, node_pointer
