"""Structural mutations of JSON Schemas, for the ``fuzz_json_schema`` custom mutator.

Byte-level mutation of a schema's JSON text mostly breaks the JSON, and the
converter rejects it before reading a single keyword. These mutations parse the
schema and edit it as a tree: drop, duplicate or swap keys, replace a value by
another schema-ish value or by a subschema taken from a real schema (a
"donor"), nest a node under a combinator, change a type, point a ``$ref``
somewhere, or nudge a number or a string. Every result is still JSON, usually
still a schema, and reaches the converter's keyword handling.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any, Callable, Dict, List, Optional, Tuple

TYPES = ["object", "array", "string", "number", "integer", "boolean", "null", "any", "str"]
FORMATS = [
    "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname",
    "ipv4", "ipv6", "uri", "uri-reference", "iri", "uuid", "regex", "json-pointer",
    "relative-json-pointer", "uri-template", "byte", "int32", "unknown-format",
]  # fmt: skip
PATTERNS = [
    "^[a-z]+$", "\\d{3}-\\d{4}", "^(?:a|b)*$", "[^\\s]+", "(?!x)a", "\\bword\\b", "(a)\\1",
    "^\\p{Lu}", "[\\u0000-\\uffff]{0,3}", "a{1000}", "(a*)*b", "", "[", "^$", ".*",
]  # fmt: skip
NUMBERS: List[Any] = [
    0, 1, -1, 2, 7, 0.5, -0.0, 1e-9, 3.14, 10**6, -(10**6), 2**53 + 1, 2**64, 1e308, -1e308,
    1.7976931348623157e308, 5e-324, 100, 0.1,
]  # fmt: skip
REFS = ["#", "#/$defs/a", "#/definitions/b", "#/properties/a", "#x", "a.json", "#/items/0"]
COUNTS: List[Any] = [0, 1, 2, 3, 5, 10, 64, 1000, 10**6, -1, 2**31, 1.5, "3", None, True]
NAMES = ["a", "b", "id", "", "a b", "é", "$ref", "\\u0000", "x" * 40, '"', "properties"]
SUBSCHEMA_KEYWORDS = [
    "additionalProperties", "items", "contains", "not", "if", "then", "else",
    "propertyNames", "unevaluatedProperties", "unevaluatedItems", "additionalItems",
]  # fmt: skip
SCHEMA_MAP_KEYWORDS = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
]
SCHEMA_LIST_KEYWORDS = ["prefixItems", "allOf", "anyOf", "oneOf", "items"]
NUMBER_KEYWORDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]
COUNT_KEYWORDS = [
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
    "minContains", "maxContains",
]  # fmt: skip
OTHER_KEYWORDS = [
    "type", "required", "enum", "const", "pattern", "format", "uniqueItems", "$ref",
    "dependentRequired", "nullable", "default", "$id", "$anchor", "$schema", "title",
]  # fmt: skip
KEYWORDS = (
    SUBSCHEMA_KEYWORDS + SCHEMA_MAP_KEYWORDS + SCHEMA_LIST_KEYWORDS + NUMBER_KEYWORDS
    + COUNT_KEYWORDS + OTHER_KEYWORDS
)  # fmt: skip

# A place in the tree: (container, key or index). The root is ([root], 0).
Location = Tuple[Any, Any]


class SchemaMutator:
    """Random structural edits of a parsed schema, with real subschemas as donors.

    Parameters
    ----------
    donors : list
        Subschemas (parsed JSON) to graft into mutated schemas.

    """

    def __init__(self, donors: List[Any]) -> None:
        self.donors = donors or [{"type": "string"}]
        self.operations: List[Callable[[random.Random, Any], None]] = [
            self.drop_key, self.duplicate_key, self.swap_values, self.replace_value,
            self.insert_keyword, self.nest, self.change_type, self.nudge_leaf,
            self.graft_donor, self.point_ref,
        ]  # fmt: skip

    # The tree ------------------------------------------------------------------
    @staticmethod
    def locations(root_box: List[Any]) -> List[Location]:
        """Every place of the tree, the root included, in document order."""
        found: List[Location] = [(root_box, 0)]
        stack = [root_box[0]]
        while stack:
            node = stack.pop()
            if not isinstance(node, (dict, list)):
                continue
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                found.append((node, key))
                if isinstance(value, (dict, list)):
                    stack.append(value)
        return found

    @staticmethod
    def objects(root_box: List[Any]) -> List[Dict[str, Any]]:
        """Every JSON object in the tree."""
        return [c[k] for c, k in SchemaMutator.locations(root_box) if isinstance(c[k], dict)]

    # Values --------------------------------------------------------------------
    def schema(self, rng: random.Random, depth: int = 0) -> Any:
        """A small random schema: a type with one keyword, a boolean, or a donor."""
        roll = rng.random()
        if roll < 0.15:
            return rng.choice([True, False])
        if roll < 0.45 or depth > 2:
            return copy.deepcopy(rng.choice(self.donors))
        node: Dict[str, Any] = {"type": rng.choice(TYPES[:7])}
        keyword = rng.choice(KEYWORDS)
        node[keyword] = self.keyword_value(rng, keyword, depth + 1)
        return node

    def keyword_value(self, rng: random.Random, keyword: str, depth: int = 0) -> Any:
        """A plausible (sometimes deliberately wrong) value for ``keyword``."""
        if rng.random() < 0.1:
            return self.json_value(rng)  # the wrong kind of value on purpose
        if keyword in SUBSCHEMA_KEYWORDS:
            return self.schema(rng, depth)
        if keyword in SCHEMA_MAP_KEYWORDS:
            return {rng.choice(NAMES): self.schema(rng, depth) for _ in range(rng.randint(0, 3))}
        if keyword in SCHEMA_LIST_KEYWORDS:
            return [self.schema(rng, depth) for _ in range(rng.randint(0, 3))]
        if keyword in NUMBER_KEYWORDS:
            return rng.choice(NUMBERS)
        if keyword in COUNT_KEYWORDS:
            return rng.choice(COUNTS)
        if keyword == "type":
            return rng.choice(TYPES) if rng.random() < 0.7 else rng.sample(TYPES, rng.randint(0, 3))
        if keyword == "required":
            return [rng.choice(NAMES) for _ in range(rng.randint(0, 3))]
        if keyword in ("enum", "const", "default"):
            values = [self.json_value(rng) for _ in range(rng.randint(0, 4))]
            return values if keyword == "enum" else (values[0] if values else None)
        if keyword == "pattern":
            return rng.choice(PATTERNS)
        if keyword == "format":
            return rng.choice(FORMATS)
        if keyword == "dependentRequired":
            return {rng.choice(NAMES): [rng.choice(NAMES)]}
        if keyword == "$ref":
            return rng.choice(
                ["#", "#/$defs/a", "#/definitions/b", "#/properties/a", "#x", "a.json"]
            )
        return self.json_value(rng)

    @staticmethod
    def json_value(rng: random.Random) -> Any:
        """Any small JSON value."""
        return rng.choice(
            [None, True, False, rng.choice(NUMBERS), rng.choice(NAMES), [], {}, [1, "a"], {"a": 1}]
        )

    # Operations ----------------------------------------------------------------
    def drop_key(self, rng: random.Random, root_box: List[Any]) -> None:
        """Delete one key of one object."""
        objects = [o for o in self.objects(root_box) if o]
        if objects:
            target = rng.choice(objects)
            del target[rng.choice(list(target))]

    def duplicate_key(self, rng: random.Random, root_box: List[Any]) -> None:
        """Copy one key's value under a keyword name (``properties`` -> ``$defs``...)."""
        objects = [o for o in self.objects(root_box) if o]
        if objects:
            target = rng.choice(objects)
            value = target[rng.choice(list(target))]
            target[rng.choice(KEYWORDS)] = copy.deepcopy(value)

    def swap_values(self, rng: random.Random, root_box: List[Any]) -> None:
        """Exchange (copies of) the values at two places; one may contain the other."""
        places = self.locations(root_box)[1:]
        if len(places) >= 2:
            (c1, k1), (c2, k2) = rng.sample(places, 2)
            first, second = copy.deepcopy(c1[k1]), copy.deepcopy(c2[k2])
            c1[k1] = second
            c2[k2] = first

    def replace_value(self, rng: random.Random, root_box: List[Any]) -> None:
        """Replace a value by one made for its key (or any schema)."""
        container, key = rng.choice(self.locations(root_box))
        if isinstance(key, str):
            container[key] = self.keyword_value(rng, key)
        else:
            container[key] = self.schema(rng)

    def insert_keyword(self, rng: random.Random, root_box: List[Any]) -> None:
        """Add a keyword with a value made for it to one object."""
        objects = self.objects(root_box)
        if objects:
            keyword = rng.choice(KEYWORDS)
            rng.choice(objects)[keyword] = self.keyword_value(rng, keyword)

    def nest(self, rng: random.Random, root_box: List[Any]) -> None:
        """Wrap a value in a combinator, an array, an object property or a definition."""
        container, key = rng.choice(self.locations(root_box))
        inner = container[key]
        wrappers = [
            lambda: {"allOf": [inner]},
            lambda: {"anyOf": [inner, self.schema(rng)]},
            lambda: {"oneOf": [inner, {"type": "null"}]},
            lambda: {"not": inner},
            lambda: {"type": "array", "items": inner, "minItems": rng.choice(COUNTS[:6])},
            lambda: {"type": "object", "properties": {"a": inner}, "required": ["a"]},
            lambda: {"$defs": {"d": inner}, "$ref": "#/$defs/d"},
            lambda: {"if": inner, "then": self.schema(rng), "else": self.schema(rng)},
        ]
        container[key] = rng.choice(wrappers)()

    def change_type(self, rng: random.Random, root_box: List[Any]) -> None:
        """Set the ``type`` of one object to another type (or a list of types)."""
        objects = self.objects(root_box)
        if objects:
            rng.choice(objects)["type"] = self.keyword_value(rng, "type")

    def nudge_leaf(self, rng: random.Random, root_box: List[Any]) -> None:
        """Change a number, string or boolean a little (or a lot)."""
        leaves = [(c, k) for c, k in self.locations(root_box) if not isinstance(c[k], (dict, list))]
        if not leaves:
            return
        container, key = rng.choice(leaves)
        value = container[key]
        if isinstance(value, bool):
            container[key] = not value
        elif isinstance(value, (int, float)):
            container[key] = rng.choice(
                [value + 1, value - 1, -value, value * 1000, value / 3, rng.choice(NUMBERS)]
            )
        elif isinstance(value, str):
            cut = rng.randint(0, len(value))
            container[key] = (
                value[:cut] + rng.choice(["", "\\", "é", "\x00", "*", value]) + value[cut:]
            )
        else:
            container[key] = self.json_value(rng)

    def graft_donor(self, rng: random.Random, root_box: List[Any]) -> None:
        """Replace a value by a subschema of a real schema."""
        container, key = rng.choice(self.locations(root_box))
        container[key] = copy.deepcopy(rng.choice(self.donors))

    def point_ref(self, rng: random.Random, root_box: List[Any]) -> None:
        """Add a ``$ref`` to an existing place of the document (cycles included)."""
        objects = self.objects(root_box)
        if not objects:
            return
        pointers = ["#"] + [
            "#/" + "/".join(path) for path in _object_paths(root_box[0], [], limit=40)
        ]
        rng.choice(objects)["$ref"] = rng.choice(pointers)

    def mutate(self, schema: Any, rng: random.Random) -> Any:
        """``schema`` (not modified) after one to three random operations."""
        root_box = [copy.deepcopy(schema)]
        for _ in range(rng.randint(1, 3)):
            rng.choice(self.operations)(rng, root_box)
        return root_box[0]


def _object_paths(node: Any, prefix: List[str], limit: int) -> List[List[str]]:
    """JSON-pointer segments of the objects below ``node`` (at most ``limit``)."""
    paths: List[List[str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if len(paths) >= limit:
                break
            if isinstance(value, dict):
                segment = key.replace("~", "~0").replace("/", "~1")
                paths.append(prefix + [segment])
                paths.extend(_object_paths(value, prefix + [segment], limit - len(paths)))
    return paths


def subschemas(schema: Any, max_chars: int = 1500) -> List[Any]:
    """The object-valued nodes of ``schema`` whose JSON is at most ``max_chars`` long."""
    found = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if len(json.dumps(node)) <= max_chars:
                found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def split_options(data: bytes) -> Tuple[int, bytes]:
    """(option bits, schema text bytes) of a ``fuzz_json_schema`` input."""
    return (data[0], data[1:]) if data else (0, b"")


def mutate_input(
    data: bytes, max_size: int, seed: int, mutator: SchemaMutator, fallback: Callable
) -> bytes:
    """The custom mutator: structural edits of the schema, sometimes of the option bits.

    ``fallback(data, max_size)`` (atheris' byte-level mutator) handles inputs whose
    text is not JSON, one input in ten, and results that would not fit ``max_size``.
    """
    rng = random.Random(seed)
    options, text = split_options(data)
    parsed: Optional[Any] = None
    if rng.random() >= 0.1:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
    if parsed is None:
        return fallback(data, max_size)
    if rng.random() < 0.2:
        options ^= 1 << rng.randint(0, 7)
    try:
        mutated = json.dumps(mutator.mutate(parsed, rng)).encode()
    except (ValueError, RecursionError):  # a cycle-free tree, but maybe too deep to print
        return fallback(data, max_size)
    out = bytes([options]) + mutated
    return out if len(out) <= max_size else fallback(data, max_size)
