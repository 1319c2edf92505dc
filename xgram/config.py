"""Process-wide settings: compile budgets, the rule automaton cache, the shared mask store."""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from . import _core
from .errors import integer_argument


def get_compile_limits() -> Tuple[int, float]:
    """The automaton budgets in force: (max_states, max_seconds)."""
    max_states, max_seconds = _core.get_compile_limits()
    return int(max_states), float(max_seconds)


def set_compile_limits(
    *, max_states: Optional[int] = None, max_seconds: Optional[float] = None
) -> None:
    """Change the process-wide compile budgets.

    A grammar exceeding them raises :class:`xgram.CompileBudgetError` instead of
    using unbounded time or memory. Defaults: 2,000,000 DFA states (NFA states are
    bounded at four times that), 30 seconds.

    Parameters
    ----------
    max_states : int, optional
        Most automaton states over all rules of one grammar.
    max_seconds : float, optional
        Most wall-clock seconds of one compile, counted from the call: the JSON
        Schema conversion, the parse, the automaton and any mask precomputation
        together (``GrammarCompiler.compile_*(max_seconds=...)`` sets it per call;
        ``Grammar.from_*`` use this one). The automaton build alone is held to it too.

    """
    states, seconds = get_compile_limits()
    _core.set_compile_limits(
        int(states if max_states is None else max_states),
        float(seconds if max_seconds is None else max_seconds),
    )


def get_match_limits() -> Dict[str, int]:
    """The matcher's work limits in force: ``max_step_work`` and ``max_fill_work``."""
    step, fill = _core.get_match_work_limits()
    return {"max_step_work": int(step), "max_fill_work": int(fill)}


def set_match_limits(
    *, max_step_work: Optional[int] = None, max_fill_work: Optional[int] = None
) -> None:
    """Bound the matcher's work, so no fill or accept runs unbounded.

    A matcher reads each token byte by byte; the closure of one byte step visits
    the live parse items and, where a rule ends, the rule's callers. For JSON-schema
    grammars that stays small, but an ambiguous grammar
    (``s ::= "a" s "b" | s s | ""``) or a deep nest of counted repetitions makes
    it grow with the input. A step over ``max_step_work`` raises
    :class:`xgram.MatchBudgetError`; so does a mask fill (or
    ``find_jump_forward_string``) whose steps together pass ``max_fill_work``.
    The matcher is left as it was. Process-wide, for every matcher from its
    next call. Defaults: 1,000,000 and 10,000,000 visits (the margin they leave
    on real schemas is measured in benchmarks/README.md).

    Parameters
    ----------
    max_step_work : int, optional
        Most items and parent edges one byte step may visit (>= 1).
    max_fill_work : int, optional
        Most visits of all the steps of one fill together (>= 1).

    """
    limits = get_match_limits()
    step = limits["max_step_work"] if max_step_work is None else max_step_work
    fill = limits["max_fill_work"] if max_fill_work is None else max_fill_work
    _core.set_match_work_limits(
        integer_argument(step, "max_step_work"), integer_argument(fill, "max_fill_work")
    )


def rule_cache_info() -> Dict[str, int]:
    """State of the process-wide cache of rule automata.

    Grammars compiled in one process share most of their rules (every JSON
    schema with free-form values carries the same ``json_value`` rules); a rule
    whose body was built before, up to the names of the rules it calls, takes its
    determinised and minimised automaton from this cache. The automaton is the
    same with or without it.

    Returns
    -------
    dict
        ``entries``, ``bytes`` held, ``hits`` and ``misses`` since the last
        :func:`clear_rule_cache`, and ``capacity`` in bytes.

    """
    entries, size, hits, misses, capacity = _core.rule_cache_stats()
    return {
        "entries": int(entries),
        "bytes": int(size),
        "hits": int(hits),
        "misses": int(misses),
        "capacity": int(capacity),
    }


def set_rule_cache_capacity(capacity_bytes: int) -> None:
    """Bound the memory of the rule automaton cache (default 32 MiB).

    When an insertion would pass the bound the cache is emptied first. ``0``
    turns the cache off.

    Parameters
    ----------
    capacity_bytes : int
        Most bytes the cache may hold; ``0`` disables it.

    Raises
    ------
    UsageError
        When ``capacity_bytes`` is negative.

    """
    _core.set_rule_cache_capacity(int(capacity_bytes))


def clear_rule_cache() -> None:
    """Empty the rule automaton cache and reset its counters."""
    _core.clear_rule_cache()


def shared_mask_cache_info() -> Dict[str, int]:
    """State of the process-wide store of shared mask parts.

    The part of a state's token mask that does not depend on the state's callers
    is the same for every grammar whose rule there has the same structure (every
    JSON schema's strings, numbers and free-form values), so grammars compiled for
    one tokenizer share it through this store instead of computing it again. It
    grows as new kinds of states are met and is bounded by bytes: past the limit
    the least recently used parts leave (a grammar that needs one again
    recomputes it; masks are the same either way).

    Returns
    -------
    dict
        ``entries``, ``bytes`` held and ``limit`` in bytes.

    """
    entries, size, limit = _core.shared_mask_cache_stats()
    return {"entries": int(entries), "bytes": int(size), "limit": int(limit)}


def set_shared_mask_cache_limit(limit_bytes: int) -> None:
    """Bound the memory of the shared mask store (default 1 GiB).

    Lowering the limit evicts at once; ``0`` keeps nothing (every grammar then
    computes its own mask parts).

    Parameters
    ----------
    limit_bytes : int
        Most bytes the store may hold.

    Raises
    ------
    UsageError
        When ``limit_bytes`` is negative.

    """
    _core.set_shared_mask_cache_limit(int(limit_bytes))
