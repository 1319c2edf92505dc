"""The flat constraint records of the normalised schema, and the algebra on them.

:mod:`.normalize` rewrites each schema into a list of :class:`Conj` records; the
keyword readers (:mod:`.keywords`, :mod:`.negation`, :mod:`.disjoint`), the value
checker (:mod:`.check`) and the emitters build, merge and read the same records.
They live here, below all of those modules, so that none imports another for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Set, Tuple

from ..errors import SchemaError
from .resolver import Location
from .values import NON_NUMBER_TYPES, canonical, is_number, to_decimal

Sub = Tuple[Location, ...]  # a conjunction of schema locations; () is the "true" schema
TRUE_SUB: Sub = ()

MAX_CASES = 2048
PRUNE_FROM = 64  # past this many cases, products drop records with a dead required property

# The keywords Normalizer._combinators reads: a schema with none of them is its own record.
COMBINATOR_KEYWORDS = frozenset(
    (
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
    )
)
UNEVALUATED_KEYWORDS = ("unevaluatedProperties", "unevaluatedItems")

ANNOTATIONS = {
    "title",
    "description",
    "default",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$schema",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$defs",
    "definitions",
    "$vocabulary",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "discriminator",
    "nullable",
    "id",
}


@dataclass
class Conj:
    """One conjunction of constraints, split by JSON type."""

    types: Set[str] = field(default_factory=lambda: set(NON_NUMBER_TYPES))
    number: Optional[str] = "number"  # "number", "integer" or None (no numbers)
    consts: Optional[List[Any]] = None  # the value must be one of these
    excluded: List[Any] = field(default_factory=list)  # ...and none of these
    not_integer: bool = False  # numbers must have a non-zero fraction
    # strings
    min_length: int = 0
    max_length: Optional[int] = None
    patterns: List[Tuple[str, str]] = field(default_factory=list)  # (regex, pointer)
    formats: List[Tuple[str, str]] = field(default_factory=list)
    # ...and must match none of these: ("pattern" or "format", its value, pointer)
    anti_strings: List[Tuple[str, str, str]] = field(default_factory=list)
    # numbers: (value, exclusive)
    lower: Optional[Tuple[Decimal, bool]] = None
    upper: Optional[Tuple[Decimal, bool]] = None
    multiple_of: List[Decimal] = field(default_factory=list)
    not_multiple_of: List[Decimal] = field(default_factory=list)  # ...a multiple of none
    # arrays
    prefix: List[Sub] = field(default_factory=list)
    items: Sub = TRUE_SUB
    min_items: int = 0
    max_items: Optional[int] = None
    contains: List[Tuple[Sub, int, Optional[int], str]] = field(default_factory=list)
    unique_items: bool = False
    # objects
    properties: Dict[str, Sub] = field(default_factory=dict)
    # What the merged pieces evaluate (for unevaluated*): negations evaluate nothing.
    evaluated_props: Set[str] = field(default_factory=set)
    evaluated_patterns: Set[str] = field(default_factory=set)
    evaluated_prefix: int = 0
    all_props_evaluated: bool = False  # additionalProperties / unevaluatedProperties seen
    all_items_evaluated: bool = False  # items (2020-12) / additionalItems / unevaluatedItems seen
    required: List[str] = field(default_factory=list)
    additional: Sub = TRUE_SUB
    pattern_properties: List[Tuple[str, Sub]] = field(default_factory=list)
    # Set when records with different patternProperties and additionalProperties
    # were merged: each merged schema's patterns and its additionalProperties,
    # which applies to a key matching none of *its* patterns (see key_rule).
    key_groups: List[Tuple[Tuple[str, ...], Sub]] = field(default_factory=list)
    property_names: Sub = TRUE_SUB
    # Some member has a key satisfying the first and a value satisfying the second
    # (the negation of additionalProperties, patternProperties, propertyNames).
    some_member: List[Tuple[Sub, Sub]] = field(default_factory=list)
    # Set by the object emitter only: such members among the undeclared keys.
    extra_witnesses: List[Tuple[Sub, Sub]] = field(default_factory=list)
    min_properties: int = 0
    max_properties: Optional[int] = None
    # where the constraints came from, for error messages: keyword -> pointer
    origin: Dict[str, str] = field(default_factory=dict)

    def copy(self) -> Conj:
        """A copy safe to modify (containers copied, their items shared)."""
        # Every list, dict and set field, named one by one (a loop over the names
        # costs twice as much, and records are copied thousands of times).
        d = self.__dict__.copy()
        d["types"] = d["types"].copy()
        if d["consts"] is not None:
            d["consts"] = d["consts"].copy()
        d["excluded"] = d["excluded"].copy()
        d["patterns"] = d["patterns"].copy()
        d["formats"] = d["formats"].copy()
        d["anti_strings"] = d["anti_strings"].copy()
        d["multiple_of"] = d["multiple_of"].copy()
        d["not_multiple_of"] = d["not_multiple_of"].copy()
        d["prefix"] = d["prefix"].copy()
        d["contains"] = d["contains"].copy()
        d["properties"] = d["properties"].copy()
        d["evaluated_props"] = d["evaluated_props"].copy()
        d["evaluated_patterns"] = d["evaluated_patterns"].copy()
        d["required"] = d["required"].copy()
        d["pattern_properties"] = d["pattern_properties"].copy()
        d["key_groups"] = d["key_groups"].copy()
        d["some_member"] = d["some_member"].copy()
        d["extra_witnesses"] = d["extra_witnesses"].copy()
        d["origin"] = d["origin"].copy()
        c = object.__new__(Conj)
        c.__dict__ = d
        return c

    def allowed_types(self) -> Set[str]:
        """The JSON types this record admits ("number"/"integer" for numbers)."""
        out = set(self.types)
        if self.number:
            out.add(self.number)
        return out


_BLANK = Conj()  # never modified: the template of new_conj


def new_conj() -> Conj:
    """``Conj()``, the record of the schema ``true``, without the dataclass constructor.

    A copy of a blank template (fresh containers through :meth:`Conj.copy`)
    skips the generated ``__init__`` and its default factories.
    """
    return _BLANK.copy()


# The record of the schema ``true``, shared: records are never modified once
# built (whoever derives one from another copies it first), so every schema with
# no constraint keyword can start from this one.
TRUE_RECORD = new_conj()


def bound_tighter(
    a: Tuple[Decimal, bool], b: Tuple[Decimal, bool], lower: bool
) -> Tuple[Decimal, bool]:
    """The tighter of two numeric bounds ``(value, exclusive)``: lower bounds when ``lower``."""
    if a[0] != b[0]:
        return a if (a[0] > b[0]) == lower else b
    return (a[0], a[1] or b[1])


def _min_opt(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def conj_sub(a: Sub, b: Sub) -> Sub:
    """The conjunction of two :data:`Sub` (``a``'s locations, then ``b``'s not already there)."""
    if not b or a is b:
        return a
    if not a:
        return b
    seen = {(id(loc[0]), loc[1]) for loc in a}
    return a + tuple(loc for loc in b if (id(loc[0]), loc[1]) not in seen)


def key_rule(c: Conj, is_matched: Any) -> Sub:
    """The schema ``c`` imposes on an undeclared key, given which patterns it matches.

    ``is_matched(pattern) -> bool``. The key's value obeys every matching
    patternProperties schema; additionalProperties applies when it matches none
    (or, for merged records, each merged schema's own additionalProperties when the
    key matches none of that schema's patterns).
    """
    sub = TRUE_SUB
    matched_any = False
    for pattern, pp in c.pattern_properties:
        if is_matched(pattern):
            sub = conj_sub(sub, pp)
            matched_any = True
    if not c.key_groups:
        return sub if matched_any else c.additional
    for patterns, additional in c.key_groups:
        if not any(is_matched(p) for p in patterns):
            sub = conj_sub(sub, additional)
    return sub


def _key_groups(c: Conj) -> List[Tuple[Tuple[str, ...], Sub]]:
    if c.key_groups:
        return c.key_groups
    return [(tuple(p for p, _ in c.pattern_properties), c.additional)]


def _value_for_key(c: Conj, name: str, pattern_matches: Any) -> Sub:
    """The schema ``c`` imposes on the value of key ``name``."""
    if name not in c.properties:
        return key_rule(c, lambda pattern: pattern_matches(pattern, name))
    sub = c.properties[name]
    for pattern, pp in c.pattern_properties:
        if pattern_matches(pattern, name):
            sub = conj_sub(sub, pp)
    return sub


_NUMBER_ORDER = {None: 0, "integer": 1, "number": 2}


def merge(a: Conj, b: Conj, pattern_matches: Any) -> Optional[Conj]:
    """The intersection of two records, or None when it is obviously empty."""
    types = a.types & b.types
    number = a.number if _NUMBER_ORDER[a.number] <= _NUMBER_ORDER[b.number] else b.number
    if a.consts is not None and b.consts is not None:
        keys = {canonical(v) for v in b.consts}
        consts = [v for v in a.consts if canonical(v) in keys]
    else:
        consts = a.consts if a.consts is not None else b.consts
    empty = (not types and number is None) or (consts is not None and not consts)
    if empty and not (a.pattern_properties or b.pattern_properties):
        # Nothing below can fail (only pattern matching, for properties, can raise).
        return None
    # Every field is set below, so the template's containers are never shared.
    d = _BLANK.__dict__.copy()
    origin = {**a.origin, **b.origin}
    d["origin"] = origin
    d["types"] = types
    d["number"] = number
    d["consts"] = consts
    d["excluded"] = a.excluded + b.excluded
    d["not_integer"] = a.not_integer or b.not_integer
    d["min_length"] = max(a.min_length, b.min_length)
    d["max_length"] = _min_opt(a.max_length, b.max_length)
    d["patterns"] = a.patterns + [p for p in b.patterns if p not in a.patterns]
    d["formats"] = a.formats + [f for f in b.formats if f[0] not in {x[0] for x in a.formats}]
    d["anti_strings"] = a.anti_strings + [s for s in b.anti_strings if s not in a.anti_strings]
    d["lower"] = (
        a.lower
        if b.lower is None
        else (b.lower if a.lower is None else bound_tighter(a.lower, b.lower, True))
    )
    d["upper"] = (
        a.upper
        if b.upper is None
        else (b.upper if a.upper is None else bound_tighter(a.upper, b.upper, False))
    )
    d["multiple_of"] = a.multiple_of + [m for m in b.multiple_of if m not in a.multiple_of]
    d["not_multiple_of"] = a.not_multiple_of + [
        m for m in b.not_multiple_of if m not in a.not_multiple_of
    ]
    # arrays: position i is constrained by both sides' prefix or items
    prefix = []
    for i in range(max(len(a.prefix), len(b.prefix))):
        left = a.prefix[i] if i < len(a.prefix) else a.items
        right = b.prefix[i] if i < len(b.prefix) else b.items
        prefix.append(conj_sub(left, right))
    d["prefix"] = prefix
    d["items"] = conj_sub(a.items, b.items)
    d["min_items"] = max(a.min_items, b.min_items)
    d["max_items"] = _min_opt(a.max_items, b.max_items)
    d["contains"] = a.contains + b.contains
    d["unique_items"] = a.unique_items or b.unique_items
    # objects: a key's value obeys both sides' rule for that key
    properties = {}
    for name in list(a.properties) + [k for k in b.properties if k not in a.properties]:
        properties[name] = conj_sub(
            _value_for_key(a, name, pattern_matches), _value_for_key(b, name, pattern_matches)
        )
    d["properties"] = properties
    d["required"] = a.required + [r for r in b.required if r not in a.required]
    d["key_groups"] = []
    if a.pattern_properties and b.pattern_properties:
        if a.pattern_properties != b.pattern_properties:
            d["pattern_properties"] = a.pattern_properties + b.pattern_properties
            if a.additional != TRUE_SUB or b.additional != TRUE_SUB or a.key_groups or b.key_groups:
                # A key matching only a's patterns must also obey b's
                # additionalProperties (and the reverse): kept per merged schema.
                d["key_groups"] = _key_groups(a) + _key_groups(b)
        else:
            d["pattern_properties"] = list(a.pattern_properties)
            if a.key_groups or b.key_groups:
                d["key_groups"] = _key_groups(a) + _key_groups(b)
    elif a.pattern_properties or b.pattern_properties:
        # The other side has no patterns: its additionalProperties holds for every
        # key it does not declare, whatever pattern the key matches (a group with no
        # patterns). Not folded into the pattern schemas: those also apply to the
        # declared properties that match, which the other side's may not cover.
        pp, other = (a, b) if a.pattern_properties else (b, a)
        d["pattern_properties"] = list(pp.pattern_properties)
        if other.additional != TRUE_SUB or pp.key_groups:
            d["key_groups"] = _key_groups(pp) + [((), other.additional)]
    else:
        d["pattern_properties"] = []
    d["additional"] = conj_sub(a.additional, b.additional)
    d["property_names"] = conj_sub(a.property_names, b.property_names)
    d["all_props_evaluated"] = a.all_props_evaluated or b.all_props_evaluated
    d["evaluated_props"] = a.evaluated_props | b.evaluated_props
    d["evaluated_patterns"] = a.evaluated_patterns | b.evaluated_patterns
    d["evaluated_prefix"] = max(a.evaluated_prefix, b.evaluated_prefix)
    d["all_items_evaluated"] = a.all_items_evaluated or b.all_items_evaluated
    d["some_member"] = a.some_member + [m for m in b.some_member if m not in a.some_member]
    d["min_properties"] = max(a.min_properties, b.min_properties)
    d["max_properties"] = _min_opt(a.max_properties, b.max_properties)
    if empty:
        return None
    if d["required"] and (a.required or b.required) and _requires_a_forbidden_name(d):
        return None
    c = object.__new__(Conj)
    c.__dict__ = d
    return c


def _requires_a_forbidden_name(d: Dict[str, Any]) -> bool:
    """Whether a merged record requires a property its own schema is ``false`` for.

    The contradiction a oneOf subtraction makes all the time ("kind is absent"
    beside "kind is required"): found here, the record is dropped at once
    instead of multiplying with the next negation.
    """
    properties = d["properties"]
    only_objects = not (d["types"] - {"object"}) and d["number"] is None
    if not only_objects:
        return False  # other types still satisfy the record
    for name in d["required"]:
        sub = properties.get(name)
        if sub and any(loc[0] is False for loc in sub):
            return True
    return False


def intersect_with_true(b: Conj, pattern_matches: Any) -> Optional[Conj]:
    """``merge(Conj(), b)``: ``b`` itself, or None when it is empty.

    Without pattern properties the merge changes nothing (records are never
    modified once built: whoever changes one copies it first), so ``b`` is
    returned as it is instead of re-deriving every field (the common case of a
    conjunction's first location).
    """
    if b.pattern_properties:
        return merge(new_conj(), b, pattern_matches)
    if not b.types and b.number is None:
        return None
    if b.consts is not None and not b.consts:
        return None
    if b.types.issubset(NON_NUMBER_TYPES):
        return b
    c = b.copy()
    c.types = {t for t in b.types if t in NON_NUMBER_TYPES}
    if not c.types and c.number is None:
        return None
    return c


def without_annotations(cases: List[Conj]) -> List[Conj]:
    """The records with their evaluation annotations dropped (as ``not`` drops them)."""
    out = []
    for c in cases:
        c = c.copy()
        c.evaluated_props, c.evaluated_patterns, c.evaluated_prefix = set(), set(), 0
        c.all_props_evaluated = c.all_items_evaluated = False
        out.append(c)
    return out


def number_bound(value: Any, keyword: str, pointer: str) -> Decimal:
    """A numeric keyword's value as a Decimal, or a SchemaError."""
    if not is_number(value):
        raise SchemaError(f"must be a number, got {value!r}", keyword, pointer)
    d = to_decimal(value)
    if not d.is_finite():
        raise SchemaError("must be finite", keyword, pointer)
    return d
