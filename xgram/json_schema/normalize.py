"""Schemas to disjunctions of flat constraint records.

Every schema is rewritten into a list of :class:`Conj` records, read as "any of
these"; a ``Conj`` is a conjunction of plain constraints per JSON type. ``$ref``
is followed, ``allOf`` becomes a real intersection (records are merged keyword by
keyword), ``anyOf`` a union, ``oneOf`` a union once its branches are proven
disjoint, and ``not`` / ``if``-``then``-``else`` / ``dependentRequired`` /
``dependentSchemas`` / ``dependencies`` are rewritten into unions of records
(``not`` by De Morgan over single keywords, each negated exactly over all JSON
values). Intersection distributes over union, so the record count is bounded and
exceeding the bound is a :class:`~xgram.errors.SchemaError`, not an approximation.

Sub-schemas of ``properties``, ``items`` and friends are *not* normalised here:
they stay as :data:`Sub` (a conjunction of schema locations) and become grammar
rules later, which is what lets recursive schemas turn into recursive rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Set, Tuple

from ..errors import SchemaError
from .resolver import Location, SchemaIndex, escape_pointer_token, join_defrag
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
_UNEVALUATED_KEYWORDS = ("unevaluatedProperties", "unevaluatedItems")

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


def _bound_tighter(
    a: Tuple[Decimal, bool], b: Tuple[Decimal, bool], lower: bool
) -> Tuple[Decimal, bool]:
    if a[0] != b[0]:
        return a if (a[0] > b[0]) == lower else b
    return (a[0], a[1] or b[1])


def _min_opt(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _conj_sub(a: Sub, b: Sub) -> Sub:
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
            sub = _conj_sub(sub, pp)
            matched_any = True
    if not c.key_groups:
        return sub if matched_any else c.additional
    for patterns, additional in c.key_groups:
        if not any(is_matched(p) for p in patterns):
            sub = _conj_sub(sub, additional)
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
            sub = _conj_sub(sub, pp)
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
        else (b.lower if a.lower is None else _bound_tighter(a.lower, b.lower, True))
    )
    d["upper"] = (
        a.upper
        if b.upper is None
        else (b.upper if a.upper is None else _bound_tighter(a.upper, b.upper, False))
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
        prefix.append(_conj_sub(left, right))
    d["prefix"] = prefix
    d["items"] = _conj_sub(a.items, b.items)
    d["min_items"] = max(a.min_items, b.min_items)
    d["max_items"] = _min_opt(a.max_items, b.max_items)
    d["contains"] = a.contains + b.contains
    d["unique_items"] = a.unique_items or b.unique_items
    # objects: a key's value obeys both sides' rule for that key
    properties = {}
    for name in list(a.properties) + [k for k in b.properties if k not in a.properties]:
        properties[name] = _conj_sub(
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
    d["additional"] = _conj_sub(a.additional, b.additional)
    d["property_names"] = _conj_sub(a.property_names, b.property_names)
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


def _intersect_with_true(b: Conj, pattern_matches: Any) -> Optional[Conj]:
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


class Normalizer:
    """Turns schema locations into lists of :class:`Conj` (memoised per location).

    Parameters
    ----------
    index : SchemaIndex
        The document's locations, for ``$ref``.
    pattern_matches : callable
        ``pattern_matches(regex, text) -> bool`` with JSON Schema ``pattern`` semantics.

    """

    def __init__(self, index: SchemaIndex, pattern_matches: Any) -> None:
        self.index = index
        self.pattern_matches = pattern_matches
        self._memo: Dict[Tuple[int, str], List[Conj]] = {}
        self._active: Set[Tuple[int, str]] = set()
        self._synthetic: List[Any] = []  # keeps synthetic schemas alive (ids stay unique)
        self.negations: Dict[int, Any] = {}  # id(schema) -> {"not": schema} (negation.py)
        self.lenient = False
        self.relaxed: List[str] = []
        # The same relaxations as (keyword, pointer, message), for xgram.explain_json_schema.
        self.relaxations: List[Tuple[str, str, str]] = []
        self.notes: List[str] = []
        # Imported here, once per conversion: those modules import this one.
        from .keywords import local_constraints  # noqa: PLC0415
        from .negation import conditional_cases  # noqa: PLC0415

        self._local_constraints = local_constraints
        self._conditional_cases = conditional_cases

    def relax(self, keyword: str, pointer: str, message: str) -> None:
        """Refuse a constraint the grammar cannot enforce, or with ``lenient`` drop it."""
        if not self.lenient:
            raise SchemaError(message + " (lenient=True would ignore it)", keyword, pointer)
        self.relaxed.append(f"{keyword} at {pointer or '#'}: {message}")
        self.relaxations.append((keyword, pointer, message))

    def note(self, message: str) -> None:
        """Record something the caller may want to know (not a relaxation)."""
        if message not in self.notes:
            self.notes.append(message)

    def synthetic(self, schema: Any, base: str, pointer: str) -> Location:
        """A location for a schema made up during rewriting (e.g. a negation)."""
        self._synthetic.append(schema)
        return (schema, base, pointer)

    def normalize_sub(self, sub: Sub) -> List[Conj]:
        """The records of a conjunction of locations."""
        if not sub:
            return [new_conj()]
        # The first location's records intersected with "anything" are themselves.
        cases = [_intersect_with_true(c, self.pattern_matches) for c in self.normalize(sub[0])]
        cases = [c for c in cases if c is not None]
        for loc in sub[1:]:
            if not cases:
                break
            cases = self.product(cases, self.normalize(loc), "allOf", loc[2])
        return cases

    def product(
        self, left: List[Conj], right: List[Conj], keyword: str, pointer: str
    ) -> List[Conj]:
        """All pairwise intersections, dropping the empty ones."""
        out = []
        if len(left) == 1 and left[0] is TRUE_RECORD:  # e.g. a schema that is only a $ref
            for b in right:
                m = _intersect_with_true(b, self.pattern_matches)
                if m is not None:
                    out.append(m)
        else:
            for a in left:
                for b in right:
                    m = merge(a, b, self.pattern_matches)
                    if m is not None:
                        out.append(m)
        if len(out) > PRUNE_FROM:
            out = [m for m in out if not self._requires_a_dead_property(m)]
        if len(out) > MAX_CASES:
            raise SchemaError(
                f"the schema splits into more than {MAX_CASES} cases (intersections of unions)",
                keyword,
                pointer,
            )
        return out

    @staticmethod
    def _requires_a_dead_property(c: Conj) -> bool:
        # A record whose required property must equal two different constants
        # (`if` / `then` chains on one discriminator without `required`) has no
        # instance. merge() only conjoins property schemas, so such records pile
        # up: 2**n for n conditionals, where n + 2 can hold. Read from the
        # schemas' own const/enum, so no property is normalised here.
        for name in c.required:
            allowed: Optional[set] = None
            for schema, _, _ in c.properties.get(name, ()):
                if not isinstance(schema, dict) or ("const" not in schema and "enum" not in schema):
                    continue
                values = [schema["const"]] if "const" in schema else schema["enum"]
                if not isinstance(values, list):
                    continue
                keys = {canonical(v) for v in values}
                allowed = keys if allowed is None else allowed & keys
                if not allowed:
                    return True
        return False

    def normalize(self, loc: Location) -> List[Conj]:
        """The records of one schema location."""
        schema, base, pointer = loc
        key = (id(schema), base)
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            raise SchemaError(
                "the schema refers to itself without going through a property or item "
                "(no instance can be checked against it)",
                "$ref",
                pointer,
            )
        self._active.add(key)
        try:
            result = self._normalize(schema, base, pointer)
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _normalize(self, schema: Any, base: str, pointer: str) -> List[Conj]:
        if schema is True:
            return [new_conj()]
        if schema is False:
            return []
        if not isinstance(schema, dict):
            raise SchemaError(
                f"a schema must be an object or a boolean, got {schema!r}", "", pointer
            )
        if self.index.ref_overrides_siblings and isinstance(schema.get("$ref"), str):
            return self.normalize(self.index.resolve(schema["$ref"], base, pointer))
        outer_base = base
        if isinstance(schema.get("$id"), str) and pointer:
            base = join_defrag(base, schema["$id"])[0]
        cases = [self._local_constraints(self, schema, base, pointer)]
        if not COMBINATOR_KEYWORDS.isdisjoint(schema):  # most schemas combine nothing
            # `so_far[0]`: the records of the keywords combined so far, the context
            # in which oneOf's branches are compared (the generator reads it lazily).
            so_far = [cases]
            for keyword, disjunction in self._combinators(
                schema, base, pointer, outer_base, so_far
            ):
                cases = self.product(cases, disjunction, keyword, pointer)
                so_far[0] = cases
                if not cases:
                    break
        for keyword in _UNEVALUATED_KEYWORDS:
            if keyword in schema and schema[keyword] is not True:
                sub = schema[keyword]
                if not isinstance(sub, (dict, bool)):
                    raise SchemaError("must be a schema", keyword, pointer)
                loc = (sub, base, pointer + "/" + keyword)
                cases = [self._apply_unevaluated(c, keyword, loc, pointer) for c in cases]
        return cases

    def _apply_unevaluated(self, c: Conj, keyword: str, loc: Location, pointer: str) -> Conj:
        """Apply ``unevaluated*`` to one record.

        A record stands for one choice of branches, so the keys (items) its merged
        pieces declare are those evaluated by that choice. Other branches that also
        match could evaluate more; ignoring them only narrows the language.
        """
        c = c.copy()
        if keyword == "unevaluatedProperties":
            if c.key_groups:
                self.relax(
                    keyword,
                    pointer,
                    "unevaluatedProperties beside patternProperties of merged schemas",
                )
            elif not c.all_props_evaluated:
                c.additional = _conj_sub(c.additional, (loc,))
                for name in c.properties:
                    if name not in c.evaluated_props and not any(
                        self.pattern_matches(p, name) for p in c.evaluated_patterns
                    ):
                        c.properties[name] = _conj_sub(c.properties[name], (loc,))
                c.pattern_properties = [
                    (p, sub if p in c.evaluated_patterns else _conj_sub(sub, (loc,)))
                    for p, sub in c.pattern_properties
                ]
                c.all_props_evaluated = True
        else:
            if c.contains:
                self.relax(keyword, pointer, "unevaluatedItems next to contains is not supported")
            elif not c.all_items_evaluated:
                c.items = _conj_sub(c.items, (loc,))
                c.prefix = [
                    sub if i < c.evaluated_prefix else _conj_sub(sub, (loc,))
                    for i, sub in enumerate(c.prefix)
                ]
                c.all_items_evaluated = True
        return c

    def _combinators(
        self,
        schema: Dict[str, Any],
        base: str,
        pointer: str,
        outer: str,
        so_far: List[List[Conj]],
    ) -> Any:
        def at(*tokens: Any) -> str:
            return pointer + "".join("/" + escape_pointer_token(str(t)) for t in tokens)

        def child(value: Any, *tokens: Any) -> Location:
            return (value, base, at(*tokens))

        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str):
                raise SchemaError("must be a string", "$ref", pointer)
            target = self.index.resolve(ref, base, pointer)
            if outer != base and not self.index.modern:
                # Draft-07 and older ignore an `$id` next to `$ref`; 2019-09+ resolve against it.
                try:
                    legacy = self.index.resolve(ref, outer, pointer)
                except SchemaError:
                    legacy = target
                if legacy[0] is not target[0]:
                    raise SchemaError(
                        "this $ref resolves differently under draft-07 (which ignores the sibling "
                        "$id) and draft 2019-09+; say which with $schema",
                        "$ref",
                        pointer,
                    )
            yield "$ref", self.normalize(target)
        for keyword in ("$dynamicRef", "$recursiveRef"):
            if keyword in schema:
                # The dynamic scope travels in `base` (a resolver.ScopedBase), so the
                # target is fixed here, and the memos, keyed by base, key it too.
                target = self.index.resolve_dynamic(keyword, schema[keyword], base, pointer)
                yield keyword, self.normalize(target)
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword not in schema:
                continue
            branches = schema[keyword]
            if not isinstance(branches, list) or not branches:
                raise SchemaError("must be a non-empty array of schemas", keyword, pointer)
            normalized = [self.normalize(child(b, keyword, i)) for i, b in enumerate(branches)]
            if keyword == "allOf":
                for disjunction in normalized:
                    yield keyword, disjunction
            elif keyword == "anyOf":
                yield keyword, [c for d in normalized for c in d]
            else:
                from .disjoint import check_one_of  # noqa: PLC0415

                locations = [child(b, keyword, i) for i, b in enumerate(branches)]
                yield keyword, check_one_of(self, locations, normalized, at(keyword), so_far[0])
        yield from self._conditional_cases(self, schema, base, pointer)


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
