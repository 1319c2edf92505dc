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

from typing import Any, Dict, List, Optional, Set, Tuple

from ..errors import SchemaError
from .common import MAX_COUNT_BOUND
from .disjoint import check_one_of
from .keywords import combinator_branches, local_constraints
from .negation import conditional_cases
from .records import (
    COMBINATOR_KEYWORDS,
    MAX_CASES,
    PRUNE_FROM,
    TRUE_RECORD,
    UNEVALUATED_KEYWORDS,
    Conj,
    Sub,
    conj_sub,
    intersect_with_true,
    merge,
    new_conj,
)
from .resolver import Location, SchemaIndex, escape_pointer_token, join_defrag
from .values import canonical


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

    def relax(self, keyword: str, pointer: str, message: str) -> None:
        """Refuse a constraint the grammar cannot enforce, or with ``lenient`` drop it."""
        if not self.lenient:
            raise SchemaError(message + " (lenient=True would ignore it)", keyword, pointer)
        self.relaxed.append(f"{keyword} at {pointer or '#'}: {message}")
        self.relaxations.append((keyword, pointer, message))

    def within_count_bound(
        self, lo: int, hi: Optional[int], keywords: Tuple[str, str], pointers: Tuple[str, str]
    ) -> Tuple[int, Optional[int]]:
        """``(lo, hi)`` within :data:`MAX_COUNT_BOUND`, the largest repetition bound written.

        ``keywords`` and ``pointers`` name the bounds (``("minItems", "maxItems")``).
        A lower bound past it is an error; an upper bound past it is relaxed (with
        ``lenient``, dropped: any longer value is then accepted).
        """
        if hi is not None and hi > MAX_COUNT_BOUND:
            message = f"{keywords[1]} above {MAX_COUNT_BOUND} is not supported"
            self.relax(keywords[1], pointers[1], message)
            hi = None
        if lo > MAX_COUNT_BOUND:
            message = f"{keywords[0]} above {MAX_COUNT_BOUND} is not supported"
            raise SchemaError(message, keywords[0], pointers[0])
        return lo, hi

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
        cases = [intersect_with_true(c, self.pattern_matches) for c in self.normalize(sub[0])]
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
                m = intersect_with_true(b, self.pattern_matches)
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
        cases = [local_constraints(self, schema, base, pointer)]
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
        for keyword in UNEVALUATED_KEYWORDS:
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
                c.additional = conj_sub(c.additional, (loc,))
                for name in c.properties:
                    if name not in c.evaluated_props and not any(
                        self.pattern_matches(p, name) for p in c.evaluated_patterns
                    ):
                        c.properties[name] = conj_sub(c.properties[name], (loc,))
                c.pattern_properties = [
                    (p, sub if p in c.evaluated_patterns else conj_sub(sub, (loc,)))
                    for p, sub in c.pattern_properties
                ]
                c.all_props_evaluated = True
        else:
            if c.contains:
                self.relax(keyword, pointer, "unevaluatedItems next to contains is not supported")
            elif not c.all_items_evaluated:
                c.items = conj_sub(c.items, (loc,))
                c.prefix = [
                    sub if i < c.evaluated_prefix else conj_sub(sub, (loc,))
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
            branches = combinator_branches(schema, keyword, pointer)
            normalized = [self.normalize(child(b, keyword, i)) for i, b in enumerate(branches)]
            if keyword == "allOf":
                for disjunction in normalized:
                    yield keyword, disjunction
            elif keyword == "anyOf":
                yield keyword, [c for d in normalized for c in d]
            else:
                locations = [child(b, keyword, i) for i, b in enumerate(branches)]
                yield keyword, check_one_of(self, locations, normalized, at(keyword), so_far[0])
        yield from conditional_cases(self, schema, base, pointer)
