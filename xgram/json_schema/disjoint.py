"""Proving ``oneOf`` branches disjoint, so that ``oneOf`` may become ``anyOf``.

``oneOf`` means "exactly one branch matches", which a grammar cannot count. When
no instance can match two branches at once, "exactly one" equals "at least one".
The proof is syntactic and conservative: different types, different constants,
a property both branches require with disjoint values (the discriminator
pattern), a property one branch requires and the other forbids, disjoint numeric
ranges. Anything unproven is refused (or, with ``lenient=True``, treated as
``anyOf`` and reported).
"""

from __future__ import annotations

from typing import List

from .normalize import Conj, Normalizer, Sub, merge
from .values import canonical, json_type


def _forbids(c: Conj, norm: Normalizer, name: str) -> bool:
    if name in c.properties:
        return not norm.normalize_sub(c.properties[name])
    if any(norm.pattern_matches(p, name) for p, _ in c.pattern_properties):
        return False
    return not norm.normalize_sub(c.additional)


def _value_types(values: list) -> set:
    out = set()
    for v in values:
        t = json_type(v)
        out.add("number" if t == "integer" else t)
    return out


def _subs_disjoint(norm: Normalizer, a: Sub, b: Sub, depth: int) -> bool:
    return all(
        conj_disjoint(norm, x, y, depth + 1)
        for x in norm.normalize_sub(a)
        for y in norm.normalize_sub(b)
    )


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
        allowed = b.allowed_types() & a.allowed_types()
        kinds = {"number" if t == "integer" else t for t in allowed}
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
                    if _subs_disjoint(norm, a.properties[name], b.properties[name], depth):
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


def check_one_of(norm: Normalizer, branches: List[List[Conj]], pointer: str) -> List[Conj]:
    """The union of ``oneOf``'s branches once they are proven pairwise disjoint."""
    for i in range(len(branches)):
        for j in range(i + 1, len(branches)):
            for a in branches[i]:
                for b in branches[j]:
                    if not conj_disjoint(norm, a, b):
                        norm.relax(
                            "oneOf",
                            pointer,
                            f"branches {i} and {j} may both match one instance, so 'exactly one' "
                            "cannot be enforced",
                        )
                        return [c for d in branches for c in d]
    return [c for d in branches for c in d]
