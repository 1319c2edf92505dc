"""Checking a concrete JSON value against a normalised record.

Used where the converter reasons about known values: which ``enum`` members
survive the sibling keywords, whether a declared property name satisfies
``propertyNames``, whether ``uniqueItems`` ranges over a finite domain. Patterns
and formats are checked with the same regex engine the grammar uses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, List, Tuple

from .records import Conj, Sub, key_rule
from .values import canonical, is_number, json_type, to_decimal

if TYPE_CHECKING:  # the normaliser calls this module and passes itself in
    from .normalize import Normalizer

_KEYS: Dict[int, Tuple[List[Any], FrozenSet[Any]]] = {}
_KEYS_MEMBERS = [0]  # constants held by _KEYS, over all its lists
_KEYS_MAX_ENTRIES, _KEYS_MAX_MEMBERS = 4096, 1 << 16


def _keys(values: List[Any]) -> FrozenSet[Any]:
    """The canonical keys of a list of constants (cached per list object).

    The cache keeps the lists alive (their ids are the keys), so it is bounded
    by lists and by constants held: a long-running process converting schemas
    with huge enums must not keep them all.
    """
    hit = _KEYS.get(id(values))
    if hit is not None and hit[0] is values:
        return hit[1]
    if len(_KEYS) >= _KEYS_MAX_ENTRIES or _KEYS_MEMBERS[0] + len(values) > _KEYS_MAX_MEMBERS:
        _KEYS.clear()
        _KEYS_MEMBERS[0] = 0
    keys = frozenset(canonical(v) for v in values)
    if len(values) <= _KEYS_MAX_MEMBERS:
        _KEYS[id(values)] = (values, keys)
        _KEYS_MEMBERS[0] += len(values)
    return keys


def sub_accepts(norm: Normalizer, sub: Sub, value: Any, depth: int = 0) -> bool:
    """Whether ``value`` satisfies the conjunction of schema locations ``sub``."""
    if depth > 64:
        raise RecursionError("value nests too deeply")
    return any(conj_accepts(norm, c, value, depth + 1) for c in norm.normalize_sub(sub))


def _is_multiple(value: Decimal, m: Decimal) -> bool:
    q = value / m
    return q == q.to_integral_value()


def conj_accepts(norm: Normalizer, c: Conj, value: Any, depth: int = 0) -> bool:
    """Whether ``value`` satisfies record ``c``."""
    t = json_type(value)
    if t in ("integer", "number"):
        if c.number is None or (c.number == "integer" and t != "integer"):
            return False
    elif t not in c.types:
        return False
    key = canonical(value)
    if c.consts is not None and key not in _keys(c.consts):
        return False
    if c.excluded and key in _keys(c.excluded):
        return False
    if t == "string":
        n = len(value)
        if n < c.min_length or (c.max_length is not None and n > c.max_length):
            return False
        if any(not norm.pattern_matches(p, value) for p, _ in c.patterns):
            return False
        for kind, anti, _ in c.anti_strings:
            matches = norm.pattern_matches if kind == "pattern" else norm.format_matches
            if matches(anti, value):
                return False
        return all(norm.format_matches(f, value) for f, _ in c.formats)
    if is_number(value):
        d = to_decimal(value)
        if c.not_integer and t == "integer":
            return False
        if c.lower is not None and (d < c.lower[0] or (c.lower[1] and d == c.lower[0])):
            return False
        if c.upper is not None and (d > c.upper[0] or (c.upper[1] and d == c.upper[0])):
            return False
        if any(_is_multiple(d, m) for m in c.not_multiple_of):
            return False
        return all(_is_multiple(d, m) for m in c.multiple_of)
    if t == "array":
        n = len(value)
        if n < c.min_items or (c.max_items is not None and n > c.max_items):
            return False
        for i, item in enumerate(value):
            s = c.prefix[i] if i < len(c.prefix) else c.items
            if not sub_accepts(norm, s, item, depth):
                return False
        for s, low, high, _ in c.contains:
            k = sum(1 for item in value if sub_accepts(norm, s, item, depth))
            if k < low or (high is not None and k > high):
                return False
        if c.unique_items and len({canonical(v) for v in value}) != n:
            return False
        return True
    if t == "object":
        n = len(value)
        if n < c.min_properties or (c.max_properties is not None and n > c.max_properties):
            return False
        if any(r not in value for r in c.required):
            return False
        for key_sub, value_sub in c.some_member:
            if not any(
                sub_accepts(norm, key_sub, k, depth) and sub_accepts(norm, value_sub, v, depth)
                for k, v in value.items()
            ):
                return False
        for k, v in value.items():
            if not sub_accepts(norm, c.property_names, k, depth):
                return False
            if k in c.properties:
                if not sub_accepts(norm, c.properties[k], v, depth):
                    return False
                for p, s in c.pattern_properties:
                    if norm.pattern_matches(p, k) and not sub_accepts(norm, s, v, depth):
                        return False
            elif not sub_accepts(
                norm, key_rule(c, lambda pattern, k=k: norm.pattern_matches(pattern, k)), v, depth
            ):
                return False
        return True
    return True
