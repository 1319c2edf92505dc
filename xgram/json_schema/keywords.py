"""The local (non-combining) keywords of one schema object, as a :class:`Conj`."""

from __future__ import annotations

from typing import Any, Dict, List, Protocol, Tuple

from ..errors import SchemaError
from .formats import KNOWN_UNSUPPORTED, format_grammar, format_regex
from .matching import check_key_pattern
from .records import TRUE_RECORD, TRUE_SUB, Conj, bound_tighter, new_conj, number_bound
from .resolver import escape_pointer_token
from .values import NON_NUMBER_TYPES, canonical


class Reporter(Protocol):
    """What the keyword readers need of the normaliser (which passes itself in)."""

    def relax(self, keyword: str, pointer: str, message: str) -> None:
        """Refuse a constraint the grammar cannot enforce, or with ``lenient`` drop it."""

    def note(self, message: str) -> None:
        """Record something the caller may want to know."""


ALL_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")

# Private keywords the negation of `pattern`, `format` and `multipleOf` rewrites
# into (negation.py): the string must not match / the number must not be a multiple.
# "x-xgram-some-member": [key schema, value schema] is the negation of the object
# keywords: some member's key satisfies the first and its value the second.
NEGATED_KEYWORDS = (
    "x-xgram-not-pattern",
    "x-xgram-not-format",
    "x-xgram-not-multiple-of",
    "x-xgram-some-member",
)


# Keywords a validator would enforce but no grammar here can: an error, or with
# lenient=True ignored (and reported).
UNSUPPORTED = {"$recursiveRef"}

# The keywords of each block of local_constraints: a schema without any of a
# block's keywords skips the block (most schemas use one or two blocks).
_STRING_KEYWORDS = frozenset(("minLength", "maxLength", "pattern", "format"))
_NUMBER_KEYWORDS = frozenset(
    ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
)
_ARRAY_KEYWORDS = frozenset(
    ("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems")
)
_OBJECT_KEYWORDS = frozenset(
    (
        "properties",
        "required",
        "patternProperties",
        "additionalProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
    )
)
# Every keyword local_constraints reads: a schema with none of them is "true".
CONSTRAINT_KEYWORDS = frozenset(
    UNSUPPORTED.union(
        ("type", "const", "enum", "x-xgram-not-integer", "x-xgram-not-in") + NEGATED_KEYWORDS,
        _STRING_KEYWORDS,
        _NUMBER_KEYWORDS,
        _ARRAY_KEYWORDS,
        _OBJECT_KEYWORDS,
    )
)
# ...and all but "type": a schema with only "type" has one shared record per type.
_CONSTRAINTS_BESIDES_TYPE = CONSTRAINT_KEYWORDS - {"type"}
_TYPE_RECORDS: Dict[Any, Conj] = {}
_BOUND_KEYWORDS = (
    ("minimum", True, False),
    ("maximum", False, False),
    ("exclusiveMinimum", True, True),
    ("exclusiveMaximum", False, True),
)


def _count(schema: Dict[str, Any], keyword: str, pointer: str) -> int:
    value = schema[keyword]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value < 0
        or value != int(value)
    ):
        raise SchemaError(f"must be a non-negative integer, got {value!r}", keyword, pointer)
    return int(value)


def _at(pointer: str, tokens: Tuple[Any, ...]) -> str:
    return pointer + "".join("/" + escape_pointer_token(str(t)) for t in tokens)


def _sub_at(value: Any, base: str, location: str, keyword: str, pointer: str) -> Any:
    """The sub-schema ``value`` of ``keyword`` found at ``location``, as a :data:`Sub`."""
    if value is True:
        return TRUE_SUB
    if not isinstance(value, (dict, bool)):
        raise SchemaError(
            f"must be a schema (an object or a boolean), got {value!r}", keyword, pointer
        )
    return ((value, base, location),)


def _sub(value: Any, base: str, pointer: str, *tokens: Any) -> Any:
    """The sub-schema ``value`` found at ``pointer`` + ``tokens``, as a :data:`Sub`."""
    return _sub_at(value, base, _at(pointer, tokens), tokens[0] if tokens else "", pointer)


def local_constraints(norm: Reporter, schema: Dict[str, Any], base: str, pointer: str) -> Conj:
    """Collect ``schema``'s own keywords into one record.

    Records are never modified once built, so the two commonest kinds are
    shared: a schema with no constraint keyword (only a ``$ref``, or only
    annotations) and one whose only constraint is ``type``.
    """
    if CONSTRAINT_KEYWORDS.isdisjoint(schema):
        return TRUE_RECORD
    if _CONSTRAINTS_BESIDES_TYPE.isdisjoint(schema):
        t = schema["type"]
        key = t if isinstance(t, str) else None
        if isinstance(t, list) and all(isinstance(n, str) for n in t):
            key = tuple(t)
        if key is not None:
            record = _TYPE_RECORDS.get(key)
            if record is None:  # built (and checked) the ordinary way, once
                record = _local_constraints(norm, schema, base, pointer)
                if len(_TYPE_RECORDS) < 256:  # lists of type names could be many
                    _TYPE_RECORDS[key] = record
            return record
    return _local_constraints(norm, schema, base, pointer)


def _local_constraints(norm: Reporter, schema: Dict[str, Any], base: str, pointer: str) -> Conj:
    c = new_conj()
    if not UNSUPPORTED.isdisjoint(schema):
        for keyword in schema:
            if keyword in UNSUPPORTED:
                if schema[keyword] is True or schema[keyword] == {}:
                    continue
                norm.relax(keyword, pointer, f"{keyword} is not supported")
    if "type" in schema:
        t = schema["type"]
        names: List[str] = [t] if isinstance(t, str) else t
        if not isinstance(names, list) or not names or any(n not in ALL_TYPES for n in names):
            raise SchemaError(
                f"must be a type name or a non-empty list of them, got {t!r}", "type", pointer
            )
        c.types = {n for n in names if n in NON_NUMBER_TYPES}
        c.number = "number" if "number" in names else ("integer" if "integer" in names else None)
    if "const" in schema:
        c.consts = [schema["const"]]
    if "enum" in schema:
        values = schema["enum"]
        if not isinstance(values, list):
            raise SchemaError("must be an array", "enum", pointer)
        if c.consts is not None:
            keys = {canonical(v) for v in values}
            c.consts = [v for v in c.consts if canonical(v) in keys]
        else:
            c.consts = list(values)
    if not _STRING_KEYWORDS.isdisjoint(schema):
        _string_keywords(norm, schema, pointer, c)
    if not _NUMBER_KEYWORDS.isdisjoint(schema):
        _number_keywords(schema, pointer, c)
    if not _ARRAY_KEYWORDS.isdisjoint(schema):
        _array_keywords(schema, base, pointer, c)
    if not _OBJECT_KEYWORDS.isdisjoint(schema):
        _object_keywords(schema, base, pointer, c)
    if schema.get("x-xgram-not-integer") is True:
        c.not_integer = True
    if "x-xgram-not-in" in schema:
        c.excluded = list(schema["x-xgram-not-in"])
    if "x-xgram-not-pattern" in schema:
        anti = schema["x-xgram-not-pattern"]
        for p in [anti] if isinstance(anti, str) else anti:
            c.anti_strings.append(("pattern", p, pointer))
    if "x-xgram-not-format" in schema:
        c.anti_strings.append(("format", schema["x-xgram-not-format"], pointer))
    if "x-xgram-not-multiple-of" in schema:
        c.not_multiple_of.append(schema["x-xgram-not-multiple-of"])
    if "x-xgram-some-member" in schema:
        key_schema, value_schema = schema["x-xgram-some-member"]
        c.some_member.append(
            (
                _sub_at(key_schema, base, pointer, "not", pointer),
                _sub_at(value_schema, base, pointer, "not", pointer),
            )
        )
    return c


def _string_keywords(norm: Reporter, schema: Dict[str, Any], pointer: str, c: Conj) -> None:
    if "minLength" in schema:
        c.min_length = _count(schema, "minLength", pointer)
        c.origin["minLength"] = pointer
    if "maxLength" in schema:
        c.max_length = _count(schema, "maxLength", pointer)
        c.origin["maxLength"] = pointer
    if "pattern" in schema:
        if not isinstance(schema["pattern"], str):
            raise SchemaError("must be a string", "pattern", pointer)
        c.patterns.append((schema["pattern"], pointer))
    if "format" in schema:
        if not isinstance(schema["format"], str):
            raise SchemaError("must be a string", "format", pointer)
        name = schema["format"]
        if format_regex(name) is not None or format_grammar(name) is not None:
            c.formats.append((name, pointer))
        elif name in KNOWN_UNSUPPORTED:
            norm.relax("format", pointer, f"format {name!r} is not supported")
        else:
            norm.note(
                f"unknown format {name!r} at {pointer or '#'} is ignored, as the specification says"
            )


def _number_keywords(schema: Dict[str, Any], pointer: str, c: Conj) -> None:
    for keyword, is_lower, exclusive in _BOUND_KEYWORDS:
        if keyword not in schema:
            continue
        value = schema[keyword]
        if isinstance(value, bool):
            # draft-04 style boolean exclusivity modifies minimum/maximum
            if value:
                plain = "minimum" if is_lower else "maximum"
                if plain in schema:
                    bound = (number_bound(schema[plain], plain, pointer), True)
                    c.lower = bound if is_lower else c.lower
                    c.upper = bound if not is_lower else c.upper
            continue
        bound = (number_bound(value, keyword, pointer), exclusive)
        if is_lower:
            c.lower = bound if c.lower is None else bound_tighter(c.lower, bound, True)
        else:
            c.upper = bound if c.upper is None else bound_tighter(c.upper, bound, False)
        c.origin[keyword] = pointer
    if "multipleOf" in schema:
        m = number_bound(schema["multipleOf"], "multipleOf", pointer)
        if m <= 0:
            raise SchemaError("must be greater than 0", "multipleOf", pointer)
        c.multiple_of.append(m)
        c.origin["multipleOf"] = pointer


def _array_keywords(schema: Dict[str, Any], base: str, pointer: str, c: Conj) -> None:
    items = schema.get("items")
    if isinstance(items, list):  # draft-07 tuple form
        c.prefix = [_sub(s, base, pointer, "items", i) for i, s in enumerate(items)]
        if "additionalItems" in schema:
            c.items = _sub(schema["additionalItems"], base, pointer, "additionalItems")
            c.all_items_evaluated = True
    else:
        if "prefixItems" in schema:
            if not isinstance(schema["prefixItems"], list):
                raise SchemaError("must be an array of schemas", "prefixItems", pointer)
            c.prefix = [
                _sub(s, base, pointer, "prefixItems", i)
                for i, s in enumerate(schema["prefixItems"])
            ]
        if "items" in schema:
            c.items = _sub(items, base, pointer, "items")
            c.all_items_evaluated = True
    if "minItems" in schema:
        c.min_items = _count(schema, "minItems", pointer)
        c.origin["minItems"] = pointer
    if "maxItems" in schema:
        c.max_items = _count(schema, "maxItems", pointer)
        c.origin["maxItems"] = pointer
    if "contains" in schema:
        low = _count(schema, "minContains", pointer) if "minContains" in schema else 1
        high = _count(schema, "maxContains", pointer) if "maxContains" in schema else None
        c.contains.append((_sub(schema["contains"], base, pointer, "contains"), low, high, pointer))
    if schema.get("uniqueItems") is True:
        c.unique_items = True
        c.origin["uniqueItems"] = pointer
    c.evaluated_prefix = len(c.prefix)


def _object_keywords(schema: Dict[str, Any], base: str, pointer: str, c: Conj) -> None:
    if "properties" in schema:
        props = schema["properties"]
        if not isinstance(props, dict):
            raise SchemaError("must be an object", "properties", pointer)
        # The pointer prefix is shared by every property: built once.
        at = pointer + "/properties/"
        c.properties = {
            name: _sub_at(s, base, at + escape_pointer_token(str(name)), "properties", pointer)
            for name, s in props.items()
        }
        c.origin["properties"] = pointer
    if "required" in schema:
        req = schema["required"]
        if not isinstance(req, list) or any(not isinstance(r, str) for r in req):
            raise SchemaError("must be an array of strings", "required", pointer)
        c.required = list(dict.fromkeys(req))
    if "patternProperties" in schema:
        pp = schema["patternProperties"]
        if not isinstance(pp, dict):
            raise SchemaError("must be an object", "patternProperties", pointer)
        if "object" in c.types:
            for p in pp:  # parse errors name the key, wherever the key is first used
                check_key_pattern(p, pointer)
        c.pattern_properties = [
            (p, _sub(s, base, pointer, "patternProperties", p)) for p, s in pp.items()
        ]
        c.origin["patternProperties"] = pointer
    if "additionalProperties" in schema:
        c.additional = _sub(schema["additionalProperties"], base, pointer, "additionalProperties")
        c.all_props_evaluated = True
        c.origin["additionalProperties"] = pointer
    if "propertyNames" in schema:
        c.property_names = _sub(schema["propertyNames"], base, pointer, "propertyNames")
        c.origin["propertyNames"] = pointer
    if "minProperties" in schema:
        c.min_properties = _count(schema, "minProperties", pointer)
        c.origin["minProperties"] = pointer
    if "maxProperties" in schema:
        c.max_properties = _count(schema, "maxProperties", pointer)
        c.origin["maxProperties"] = pointer
    c.evaluated_props = set(c.properties)
    c.evaluated_patterns = {p for p, _ in c.pattern_properties}


DEPENDENCY_KEYWORDS = ("dependentRequired", "dependentSchemas", "dependencies")


def combinator_branches(schema: Dict[str, Any], keyword: str, pointer: str) -> List[Any]:
    """The branches of ``allOf``/``anyOf``/``oneOf`` in ``schema``, checked to be a list."""
    branches = schema[keyword]
    if not isinstance(branches, list) or not branches:
        raise SchemaError("must be a non-empty array of schemas", keyword, pointer)
    return branches


def dependencies(schema: Dict[str, Any], keyword: str, pointer: str) -> Dict[str, Any]:
    """A dependency keyword's map, checked: each entry a list of names or a schema."""
    value = schema[keyword]
    if not isinstance(value, dict):
        raise SchemaError("must be an object", keyword, pointer)
    for name, dep in value.items():
        if isinstance(dep, list) and any(not isinstance(d, str) for d in dep):
            raise SchemaError("must list property names", keyword, _at(pointer, (keyword, name)))
    return value


class _ErrorsOnly:
    """A :class:`Reporter` for reading keywords only for their errors.

    What cannot be enforced is not an error of the schema: where the schema is
    rewritten rather than converted (a negation), the rewrite says what it
    cannot express, and a relaxation recorded here would never apply.
    """

    def relax(self, keyword: str, pointer: str, message: str) -> None:
        """Nothing: see the class."""

    def note(self, message: str) -> None:
        """Nothing: see the class."""


_ERRORS_ONLY = _ErrorsOnly()


def check_keywords(schema: Dict[str, Any], base: str, pointer: str) -> None:
    """Raise the SchemaError that converting ``schema`` raises for a malformed keyword value.

    The checks are those of the conversion itself (:func:`local_constraints`,
    :func:`combinator_branches`, :func:`dependencies`), so a schema rewritten
    rather than converted, as under ``not``, is held to the same rules.
    """
    local_constraints(_ERRORS_ONLY, schema, base, pointer)
    for keyword in ("allOf", "anyOf", "oneOf"):
        if keyword in schema:
            combinator_branches(schema, keyword, pointer)
    for keyword in DEPENDENCY_KEYWORDS:
        if schema.get(keyword) is not None:
            dependencies(schema, keyword, pointer)
