"""Arrays: positional prefix, counted repetition of ``items``, ``contains``, ``uniqueItems``.

An array is spelled as a prefix of positional elements (``prefixItems``, each
optional once ``minItems`` is met) followed by a counted repetition of ``items``.
``contains`` counts matching elements between runs of the others; ``uniqueItems``
is exact when the items range over a small finite set (every permutation).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Dict, List, Optional, Tuple

from .check import conj_accepts
from .records import TRUE_SUB, Conj, Sub, conj_sub
from .resolver import Location
from .spelling import Layout, value_literal
from .values import canonical

MAX_COUNT_STATES = 64
MAX_UNIQUE_DOMAIN = 12  # values of a finite item domain: 2**n rules


class ArrayEmitter:
    """Array spelling, mixed into :class:`~xgram.json_schema.emit.Emitter`."""

    def array(self, c: Conj, depth: int, hint: str) -> Optional[str]:
        """The EBNF for the arrays of record ``c``."""
        lay = self.layout(depth)
        lo, hi = c.min_items, c.max_items
        if hi is not None and lo > hi:
            return None
        if self.strict_mode and c.items == TRUE_SUB and c.prefix and not c.all_items_evaluated:
            items_sub: Optional[Sub] = None
        else:
            items_sub = c.items
        positions: List[Optional[str]] = []
        for i, p in enumerate(c.prefix):
            positions.append(self.value(p, depth + 1, f"{hint}_{i}"))
        item = self.value(items_sub, depth + 1, f"{hint}_item") if items_sub is not None else None
        # the longest allowed array given impossible positions
        limit: Optional[int] = None
        for i, p in enumerate(positions):
            if p is None:
                limit = i
                break
        if limit is None and item is None:
            limit = len(positions)
        if limit is not None:
            hi = limit if hi is None else min(hi, limit)
        if hi is not None and lo > hi:
            return None
        c, lo, hi = self.checked_counts(c, lo, hi)
        if c.contains:
            settled = self.settle_contains(c, lo, hi)
            if settled is None:
                return None
            c, lo, hi = settled
        if c.contains:
            return self.array_contains(c, lay, lo, hi, positions, item, depth, hint)
        if c.unique_items and (hi is None or hi > 1):
            return self.array_unique(c, lay, lo, hi, depth)
        return self.array_body(lay, lo, hi, positions, item)

    def checked_counts(
        self, c: Conj, lo: int, hi: Optional[int]
    ) -> Tuple[Conj, int, Optional[int]]:
        """The item and ``contains`` counts, each within the largest repetition bound written.

        A lower bound past it is an error; an upper bound past it is dropped when
        ``lenient`` allows (any array then longer than the bound is accepted).
        """
        pointers = (c.origin.get("minItems", ""), c.origin.get("maxItems", ""))
        lo, hi = self.norm.within_count_bound(lo, hi, ("minItems", "maxItems"), pointers)
        contains = []
        for s, low, high, ptr in c.contains:
            low, high = self.norm.within_count_bound(
                low, high, ("minContains", "maxContains"), (ptr, ptr)
            )
            contains.append((s, low, high, ptr))
        if contains != c.contains:
            c = replace(c, contains=contains)
        return c, lo, hi

    def array_body(
        self,
        lay: Layout,
        lo: int,
        hi: Optional[int],
        positions: List[Optional[str]],
        item: Optional[str],
        witness: Optional[str] = None,
    ) -> Optional[str]:
        """Arrays of ``lo``..``hi`` elements: positional ones, then ``item`` repeated.

        With ``witness``, the items after the prefix include one matching it (the
        caller allows this only without an upper bound and with ``lo`` at most
        the prefix length plus one).
        """
        sep = lay.item_sep
        k = len(positions)

        # tail after the prefix: items repeated
        def tail(count_before: int) -> Optional[str]:
            t_lo = max(0, lo - count_before)
            t_hi = None if hi is None else hi - count_before
            if t_hi is not None and t_hi < t_lo:
                return None
            if witness is not None:
                if item is None:
                    return None
                return f"({sep} {item})* {sep} {witness} ({sep} {item})*"
            if t_hi == 0 or item is None:
                return "" if t_lo == 0 else None
            return f"({sep} {item}){{{t_lo},{'' if t_hi is None else t_hi}}}"

        def rest() -> Optional[str]:
            # Elements from position 1 on (the first is written), built from the
            # end backwards: a loop, not a recursion, since prefixItems may be long.
            end = max(1, k if hi is None else min(k, hi))
            if hi is not None and end >= hi:
                result = "" if end >= lo else None
            else:
                result = tail(end)
            for i in range(end - 1, 0, -1):
                if positions[i] is None or result is None:
                    result = "" if i >= lo else None
                    continue
                take = f"{sep} {positions[i]} {result}".strip()
                result = f"({take})?" if i >= lo else f"({take})"
            return result

        if k:
            first = positions[0]
            more = rest()
            nonempty = (
                None
                if first is None or more is None or (hi is not None and hi < 1)
                else f"{first} {more}".strip()
            )
        elif witness is not None:
            nonempty = None if item is None else f"({item} {sep})* {witness} ({sep} {item})*"
        elif item is not None and (hi is None or hi >= 1):
            t_lo = max(0, lo - 1)
            t_hi = None if hi is None else hi - 1
            nonempty = (
                f"{item} ({sep} {item}){{{t_lo},{'' if t_hi is None else t_hi}}}"
                if t_hi != 0
                else item
            )
        else:
            nonempty = None
        forms = []
        if nonempty is not None:
            forms.append(f"{lay.open_array} {nonempty} {lay.close_array}")
        if lo == 0 and witness is None:
            forms.append(lay.empty_array)
        if not forms:
            return None
        return "(" + " | ".join(forms) + ")"

    def settle_contains(
        self, c: Conj, lo: int, hi: Optional[int]
    ) -> Optional[Tuple[Conj, int, Optional[int]]]:
        """Drop the ``contains`` that the item schemas decide on their own.

        When no item can match (``items`` disjoint from the contained schema, or
        that schema is ``not X`` and the items are ``X`` already), the count is 0:
        no array if minContains is at least 1, else nothing to check.
        When every item matches (the contained schema is ``not X`` and the items
        are disjoint from ``X``, as in a negated ``oneOf`` branch over arrays of
        other enums), the count is the array's length: minContains and
        maxContains become minItems and maxItems. Returns the record without the
        settled entries and the new length bounds, or None when no array is left.
        """
        from .disjoint import subs_disjoint  # noqa: PLC0415

        item_subs = [*c.prefix, c.items]
        kept = []
        for entry in c.contains:
            s, low, high, _ = entry
            if low == 0 and high is None:
                continue  # no constraint
            inner = _negated_schema(s)
            no_match = all(subs_disjoint(self.norm, sub, s) for sub in item_subs)
            if no_match or (inner is not None and all(_implies(sub, inner) for sub in item_subs)):
                if low > 0:
                    return None
                continue
            if inner is not None and all(subs_disjoint(self.norm, sub, inner) for sub in item_subs):
                lo = max(lo, low)
                hi = high if hi is None else (hi if high is None else min(hi, high))
                continue
            kept.append(entry)
        if hi is not None and lo > hi:
            return None
        if len(kept) == len(c.contains):
            return c, lo, hi
        return replace(c, contains=kept), lo, hi

    def array_contains(
        self,
        c: Conj,
        lay: Layout,
        lo: int,
        hi: Optional[int],
        positions: List[Optional[str]],
        item: Optional[str],
        depth: int,
        hint: str,
    ) -> Optional[str]:
        """Arrays whose count of items matching ``contains`` is in [minContains, maxContains]."""
        active = [entry for entry in c.contains if entry[1] > 0 or entry[2] is not None]
        if not active:
            return self.array_body(lay, lo, hi, positions, item)
        s, low, high, ptr = active[0]
        # "At least one match" for each contains, without an upper bound: the
        # witness forms below (each writes at least one item after the prefix).
        plain = hi is None and all(entry[1] == 1 and entry[2] is None for entry in active)
        if plain and len(active) == 2 and not positions and lo <= 1:
            subs = (active[0][0], active[1][0])
            return self.array_two_witnesses(c, lay, subs, item, depth, hint)
        if plain and len(active) == 1 and positions and lo <= len(positions) + 1:
            return self.array_witness_after_prefix(c, lay, s, lo, positions, item, depth, hint)
        if len(active) > 1 or positions:
            self.norm.relax(
                "contains", ptr, "contains with prefixItems or several contains is not supported"
            )
        if item is None:
            return lay.empty_array if low == 0 and lo == 0 else None
        if ((hi is not None and (high is None or hi < high)) or lo > low) and not positions:
            return self.array_contains_counted(c, lay, lo, hi, item, depth, hint)
        if (hi is not None and (high is None or hi < high)) or lo > low:
            self.norm.relax("contains", ptr, "contains with minItems/maxItems is not supported")
        matching = self.value(conj_sub(c.items, s), depth + 1, f"{hint}_contains")
        sep = lay.item_sep
        if high is None:
            if matching is None:
                return None
            body = f"({item} {sep})* {matching} (({sep} {item})* {sep} {matching}){{{low - 1}}} ({sep} {item})*"  # noqa: E501
            return f"({lay.open_array} {body} {lay.close_array})"
        if high < low:
            return None
        if high > MAX_COUNT_STATES:
            self.norm.relax(
                "maxContains", ptr, f"maxContains above {MAX_COUNT_STATES} is not supported"
            )
        if len({loc[1] for loc in s}) > 1:
            self.norm.relax("maxContains", ptr, "maxContains over schemas from different documents")
        negated = self.norm.synthetic(
            {"not": {"allOf": [loc[0] for loc in s]}}, s[0][1], ptr + "/contains"
        )
        other = self.value(conj_sub(c.items, (negated,)), depth + 1, f"{hint}_other")
        forms = []
        if low == 0:
            forms.append(lay.empty_array)
            if other is not None:
                forms.append(f"{lay.open_array} {other} ({sep} {other})* {lay.close_array}")
        if matching is not None:
            lead = f"({other} {sep})* " if other is not None else ""
            gap = f"({sep} {other})* " if other is not None else ""
            for k in range(max(low, 1), min(high, MAX_COUNT_STATES) + 1):
                body = f"{lead}{matching} ({gap}{sep} {matching}){{{k - 1}}} {gap}".strip()
                forms.append(f"{lay.open_array} {body} {lay.close_array}")
        return "(" + " | ".join(forms) + ")" if forms else None

    def array_contains_counted(
        self,
        c: Conj,
        lay: Layout,
        lo: int,
        hi: Optional[int],
        item: str,
        depth: int,
        hint: str,
    ) -> Optional[str]:
        """``contains`` with minItems/maxItems: rules count matches and items together.

        ``state(m, n)``: the rest of the array after ``n`` items of which ``m``
        match. Without maxContains the unmatched items may be any item (at least
        ``low`` of them match either way) and ``m`` stops at ``low``; without
        maxItems ``n`` stops at ``lo``.
        """
        s, low, high, ptr = [e for e in c.contains if e[1] > 0 or e[2] is not None][0]
        cap_items = hi if hi is not None else lo
        cap_matches = high if high is not None else low
        if cap_items > MAX_COUNT_STATES or cap_matches > MAX_COUNT_STATES:
            self.norm.relax(
                "contains", ptr, f"counts above {MAX_COUNT_STATES} with contains are not supported"
            )
            return None
        if high is not None and high < low:
            return None
        matching = self.value(conj_sub(c.items, s), depth + 1, f"{hint}_contains")
        if high is None:
            other: Optional[str] = item
        else:
            if len({loc[1] for loc in s}) > 1:
                self.norm.relax(
                    "maxContains", ptr, "maxContains over schemas from different documents"
                )
            negated = self.norm.synthetic(
                {"not": {"allOf": [loc[0] for loc in s]}}, s[0][1], ptr + "/contains"
            )
            other = self.value(conj_sub(c.items, (negated,)), depth + 1, f"{hint}_other")
        sep = lay.item_sep
        names: Dict[Tuple[int, int], Optional[str]] = {}

        def state(m: int, n: int) -> Optional[str]:
            # Counts only go up (saturating), so the only cycles are a state's
            # loops on itself: a state is live when it may end or leads on to a
            # live state; its loops are added once that is known.
            key = (m, n)
            if key in names:
                return names[key]
            forms = []
            loops = []
            if low <= m and (high is None or m <= high) and n >= lo:
                forms.append('""')
            if hi is None or n < hi:
                for member, dm in ((other, 0), (matching, 1)):
                    if member is None or (high is not None and m + dm > high):
                        continue
                    m2 = m + dm if high is not None else min(m + dm, low)
                    n2 = n + 1 if hi is not None else min(n + 1, lo)
                    if (m2, n2) == key:
                        loops.append(member)
                        continue
                    rest = state(m2, n2)
                    if rest is not None:
                        forms.append(f"{sep} {member} {rest}")
            if not forms:
                names[key] = None
                return None
            name = self.fresh(f"{hint}_count")
            names[key] = name
            forms += [f"{sep} {member} {name}" for member in loops]
            self.rules[name] = " | ".join(forms)
            return name

        out = []
        if lo == 0 and low == 0:
            out.append(lay.empty_array)
        if hi is None or hi >= 1:
            for member, dm in ((other, 0), (matching, 1)):
                if member is None or (high is not None and dm > high):
                    continue
                first = state(
                    dm if high is not None else min(dm, low), 1 if hi is not None else min(1, lo)
                )
                if first is not None:
                    out.append(f"{lay.open_array} {member} {first} {lay.close_array}")
        return "(" + " | ".join(out) + ")" if out else None

    def array_witness_after_prefix(
        self,
        c: Conj,
        lay: Layout,
        s: Sub,
        lo: int,
        positions: List[Optional[str]],
        item: Optional[str],
        depth: int,
        hint: str,
    ) -> Optional[str]:
        """At least one element matches ``s``: a prefix position or a later item."""
        forms = []
        for i in range(len(positions)):
            v = c.copy()
            v.contains = []
            v.prefix[i] = conj_sub(c.prefix[i], s)
            v.min_items = max(c.min_items, i + 1)
            expr = self.array(v, depth, hint)
            if expr is not None and expr not in forms:
                forms.append(expr)
        matching = self.value(conj_sub(c.items, s), depth + 1, f"{hint}_contains")
        if matching is not None:
            # every prefix position is written before the items that hold the witness
            expr = self.array_body(
                lay, max(lo, len(positions) + 1), None, positions, item, matching
            )
            if expr is not None:
                forms.append(expr)
        return "(" + " | ".join(forms) + ")" if forms else None

    def array_two_witnesses(
        self,
        c: Conj,
        lay: Layout,
        subs: Tuple[Sub, Sub],
        item: Optional[str],
        depth: int,
        hint: str,
    ) -> Optional[str]:
        """Two ``contains``: one element matching both, or one of each in either order."""
        s1, s2 = subs
        m1 = self.value(conj_sub(c.items, s1), depth + 1, f"{hint}_contains")
        m2 = self.value(conj_sub(c.items, s2), depth + 1, f"{hint}_contains")
        if item is None or m1 is None or m2 is None:
            return None
        sep = lay.item_sep
        gap = f"{sep} ({item} {sep})*"
        cores = [f"{m1} {gap} {m2}", f"{m2} {gap} {m1}"]
        both = self.value(conj_sub(conj_sub(c.items, s1), s2), depth + 1, f"{hint}_contains")
        if both is not None:
            cores.insert(0, both)
        core = self.add_rule(f"{hint}_witnesses", " | ".join(cores))
        body = f"({item} {sep})* {core} ({sep} {item})*"
        return f"({lay.open_array} {body} {lay.close_array})"

    def array_unique(
        self, c: Conj, lay: Layout, lo: int, hi: Optional[int], depth: int
    ) -> Optional[str]:
        """Arrays of distinct items drawn from a small finite domain."""
        ptr = c.origin.get("uniqueItems", "")
        if c.prefix:
            self.norm.relax("uniqueItems", ptr, "uniqueItems with prefixItems is not supported")
            return self.array_body(lay, lo, hi, [], None)
        domain = self.finite_domain(c.items)
        if domain is None or len(domain) > MAX_UNIQUE_DOMAIN:
            self.norm.relax(
                "uniqueItems",
                ptr,
                "uniqueItems is only supported when the items are a small finite set",
            )
            item = self.value(c.items, depth + 1, "item")
            return self.array_body(lay, lo, hi, [], item)
        # One rule per set of values written so far (its size is the item count):
        # the rest of the array may add any value not in the set.
        values = [value_literal(v, self.layout, depth + 1, self.add_rule) for v in domain]
        sep = lay.item_sep
        names: Dict[int, Optional[str]] = {}

        def after(mask: int) -> Optional[str]:
            if mask in names:
                return names[mask]
            count = bin(mask).count("1")
            forms = ['""'] if count >= lo else []
            if hi is None or count < hi:
                for i, value in enumerate(values):
                    if not mask >> i & 1:
                        rest = after(mask | 1 << i)
                        if rest is not None:
                            forms.append(f"{sep} {value} {rest}")
            names[mask] = self.add_rule("unique", " | ".join(forms)) if forms else None
            return names[mask]

        forms = [lay.empty_array] if lo == 0 else []
        if hi is None or hi >= 1:
            for i, value in enumerate(values):
                rest = after(1 << i)
                if rest is not None:
                    forms.append(f"{lay.open_array} {value} {rest} {lay.close_array}")
        return "(" + " | ".join(forms) + ")" if forms else None

    def finite_domain(self, sub: Sub) -> Optional[List[Any]]:
        """The values of ``sub`` when they form a finite set, else None."""
        values: Dict[Any, Any] = {}
        for conj in self.norm.normalize_sub(sub):
            if conj.consts is not None:
                cands = conj.consts
            elif conj.number is None and conj.types <= {"null", "boolean"}:
                cands = ([None] if "null" in conj.types else []) + (
                    [True, False] if "boolean" in conj.types else []
                )
            else:
                return None
            for v in cands:
                if conj_accepts(self.norm, conj, v):
                    values.setdefault(canonical(v), v)
        return list(values.values())

    # --- objects -------------------------------------------------------------------------


def _negated_schema(sub: Sub) -> Optional[Sub]:
    # `X` when `sub` is the single location `{"not": X}` (what a negation builds).
    if len(sub) != 1:
        return None
    schema, base, pointer = sub[0]
    if not isinstance(schema, dict) or set(schema) != {"not"}:
        return None
    return ((schema["not"], base, pointer + "/not"),)


def _implies(sub: Sub, implied: Sub) -> bool:
    # Whether every location of `implied` is one of `sub`'s (the same schema,
    # or an equal one read in the same document): a value of `sub` satisfies it.
    def key(loc: Location) -> Tuple[str, str]:
        return json.dumps(loc[0], sort_keys=True, default=str), loc[1]

    have = {key(loc) for loc in sub}
    return all(key(loc) in have for loc in implied)
