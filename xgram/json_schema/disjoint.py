"""``oneOf`` ("exactly one branch matches") as a union of records.

A grammar cannot count matching branches, but it does not need to. When no
instance can match two branches at once, "exactly one" equals "at least one":
the proof is syntactic and conservative (different types, different constants,
a property both branches require with disjoint values (the discriminator
pattern), a property one branch requires and the other forbids, disjoint
numeric ranges). Branches not proven disjoint are made disjoint by subtraction:
branch i becomes "branch i and not branch j" for each j it may overlap, exact
wherever ``not`` is (negation.py). What is left is refused (or, with
``lenient=True``, treated as ``anyOf`` and reported).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, List, Optional

from ..errors import SchemaError
from .check import conj_accepts, sub_accepts
from .negation import negation_cases
from .records import Conj, Sub, key_rule, merge
from .resolver import Location
from .values import canonical, json_type

if TYPE_CHECKING:  # the normaliser calls this module and passes itself in
    from .normalize import Normalizer


def _forbids(c: Conj, norm: Normalizer, name: str) -> bool:
    if name in c.properties:
        sub = c.properties[name]
    else:
        sub = key_rule(c, lambda pattern: norm.pattern_matches(pattern, name))
    try:
        return not norm.normalize_sub(sub)
    except SchemaError:  # e.g. a recursive schema still being normalised: unproven
        return False


def _kinds(types: set) -> set:
    return {"number" if t == "integer" else t for t in types}


def _value_types(values: list) -> set:
    out = set()
    for v in values:
        t = json_type(v)
        out.add("number" if t == "integer" else t)
    return out


def subs_disjoint(norm: Normalizer, a: Sub, b: Sub, depth: int = 0) -> bool:
    """Whether no JSON value satisfies both conjunctions (False when unsure)."""
    try:
        left, right = norm.normalize_sub(a), norm.normalize_sub(b)
    except SchemaError:  # e.g. a recursive schema still being normalised: unproven
        return False
    return all(conj_disjoint(norm, x, y, depth + 1) for x in left for y in right)


def conj_disjoint(norm: Normalizer, a: Conj, b: Conj, depth: int = 0) -> bool:
    """Whether no JSON value satisfies both records (False when unsure)."""
    if depth > 8:
        return False
    m = merge(a, b, norm.pattern_matches)
    if m is None:
        return True
    if a.consts is not None and b.consts is None:
        a, b = b, a
    if b.consts is not None and a.consts is None:
        # "integer" and "number" are both numbers here: compared as names they
        # would look disjoint, and {"type": "integer"} beside {"const": 3} is not.
        kinds = _kinds(b.allowed_types()) & _kinds(a.allowed_types())
        if not (_value_types(b.consts) & kinds):
            return True
    if m.consts is not None:
        keys = {canonical(v) for v in m.excluded}
        if all(canonical(v) in keys for v in m.consts):
            return True
    kinds = m.types | ({"number"} if m.number else set())
    for kind in sorted(kinds):  # sorted: which check runs first decides which error a cycle raises
        if kind == "object":
            for name in dict.fromkeys([*a.required, *b.required]):  # schema order, not hash order
                if name in a.required and _forbids(b, norm, name):
                    break
                if name in b.required and _forbids(a, norm, name):
                    break
                if (
                    name in a.required
                    and name in b.required
                    and name in a.properties
                    and name in b.properties
                ):
                    if subs_disjoint(norm, a.properties[name], b.properties[name], depth):
                        break
            else:
                continue
            kinds.discard("object")
        elif kind == "number" and m.lower is not None and m.upper is not None:
            lo, hi = m.lower, m.upper
            if lo[0] > hi[0] or (lo[0] == hi[0] and (lo[1] or hi[1])):
                kinds.discard("number")
        elif kind == "string" and m.max_length is not None and m.min_length > m.max_length:
            kinds.discard("string")
        elif kind == "array" and m.max_items is not None and m.min_items > m.max_items:
            kinds.discard("array")
    return not kinds


def check_one_of(
    norm: Normalizer,
    locations: List[Location],
    branches: List[List[Conj]],
    pointer: str,
    context: Optional[List[Conj]] = None,
) -> List[Conj]:
    """``oneOf`` as a union of records: exact, or a SchemaError (lenient: ``anyOf``).

    Branches proven pairwise disjoint are simply united. Otherwise "exactly one"
    is rewritten as the union over i of (branch i and not branch j, for every j
    that may overlap i): the negation of each overlapping branch is expressed
    by De Morgan (``negation.py``). Where a negation is not expressible, the
    ``oneOf`` is refused, naming the two branches and, when one is found, an
    instance both accept.

    Overlap is judged within ``context``, the records the branches will be
    intersected with (the schema's other keywords): a ``required`` beside
    ``oneOf`` makes branches that differ on that property's value disjoint.
    """
    n = len(branches)
    in_context = branches
    # The test costs |context| merges per record pair: a wide context (a union
    # from anyOf beside the oneOf) falls back to comparing the branches alone.
    if context is not None and len(context) <= 4:
        in_context = [
            [m for c in context for b in branch if (m := merge(c, b, norm.pattern_matches))]
            for branch in branches
        ]
    overlaps: List[List[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if not all(conj_disjoint(norm, a, b) for a in in_context[i] for b in in_context[j]):
                overlaps[i].append(j)
                overlaps[j].append(i)
    if not any(overlaps):
        return [c for d in branches for c in d]
    out: List[Conj] = []
    for i in range(n):
        cases = branches[i]
        for j in overlaps[i]:
            if not cases:
                break
            try:
                negated = negation_cases(norm, locations[j][0], locations[j][1], f"{pointer}/{j}")
                cases = norm.product(cases, negated, "oneOf", pointer)
            except SchemaError as e:
                witness = _common_instance(norm, branches[i], branches[j])
                shown = "" if witness is _NONE else f" (both accept {json.dumps(witness)[:80]})"
                norm.relax(
                    "oneOf",
                    pointer,
                    f"branches {i} and {j} may both match one instance{shown}, and 'not' of "
                    f"branch {j} is not expressible ({e}), so 'exactly one' cannot be enforced",
                )
                return [c for d in branches for c in d]
        out.extend(cases)
    return out


_NONE = object()
_SIMPLE_VALUES = (None, True, False, 0, 1, -1, 0.5, "", "a", [], {})


def _common_instance(norm: Normalizer, left: List[Conj], right: List[Conj]) -> Any:
    """A small value both unions accept (for the error message), else ``_NONE``."""

    def accepts(cases: List[Conj], value: Any) -> bool:
        return any(conj_accepts(norm, c, value) for c in cases)

    candidates: List[Any] = list(_SIMPLE_VALUES)
    for c in left + right:  # objects with the required names, and the constants
        if c.consts:
            candidates.extend(c.consts[:4])
        if c.required:
            obj = {}
            for name in c.required:
                sub = c.properties.get(name, c.additional)
                try:
                    obj[name] = next((v for v in _SIMPLE_VALUES if sub_accepts(norm, sub, v)), None)
                except (RecursionError, SchemaError):  # a schema still being normalised
                    obj[name] = None
            candidates.append(obj)
    for value in candidates:
        try:
            if accepts(left, value) and accepts(right, value):
                return value
        except (RecursionError, SchemaError):
            continue
    return _NONE
