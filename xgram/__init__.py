"""xgram: exact, fast constrained decoding.

A grammar (EBNF, JSON) is compiled into a byte-level pushdown automaton; a
matcher runs it with a graph-structured stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List

from ._compile_scope import CancellationToken
from .batch import BatchGrammarMatcher, BatchRowError
from .compiler import CompiledGrammar, GrammarCompiler
from .config import (
    clear_rule_cache,
    get_compile_limits,
    get_match_limits,
    rule_cache_info,
    set_compile_limits,
    set_match_limits,
    set_rule_cache_capacity,
    set_shared_mask_cache_limit,
    shared_mask_cache_info,
)
from .errors import (
    ArgumentTypeError,
    CompileBudgetError,
    CompileCancelledError,
    GrammarError,
    MatchBudgetError,
    SchemaError,
    SchemaRelaxedWarning,
    UsageError,
    XgramError,
)
from .grammar import CheckResult, Grammar
from .matcher import (
    GrammarMatcher,
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    get_bitmask_shape,
    reset_token_bitmask,
)
from .schema_options import JsonSchemaOptions
from .structural_tag import StructuralTagError
from .tokenizer_info import TokenizerInfo, VocabType

if TYPE_CHECKING:
    from .json_schema.explain import KeywordExplanation, SchemaExplanation, explain_json_schema

# Loaded on first use: they bring in the whole JSON schema converter, which
# 'import xgram' otherwise leaves for Grammar.from_json_schema to load.
_LAZY_EXPORTS = frozenset(("KeywordExplanation", "SchemaExplanation", "explain_json_schema"))


def __getattr__(name: str) -> Any:
    """The lazily loaded exports (PEP 562)."""
    if name in _LAZY_EXPORTS:
        from .json_schema import explain  # noqa: PLC0415

        return getattr(explain, name)
    raise AttributeError(f"module 'xgram' has no attribute {name!r}")


def __dir__() -> List[str]:
    """The module's names, the lazily loaded exports included."""
    return sorted(set(globals()) | _LAZY_EXPORTS)


__all__ = [
    "ArgumentTypeError",
    "BatchGrammarMatcher",
    "BatchRowError",
    "CancellationToken",
    "CheckResult",
    "CompileBudgetError",
    "CompileCancelledError",
    "CompiledGrammar",
    "Grammar",
    "GrammarCompiler",
    "GrammarError",
    "GrammarMatcher",
    "JsonSchemaOptions",
    "MatchBudgetError",
    "KeywordExplanation",
    "SchemaError",
    "SchemaExplanation",
    "SchemaRelaxedWarning",
    "StructuralTagError",
    "TokenizerInfo",
    "UsageError",
    "VocabType",
    "XgramError",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "clear_rule_cache",
    "explain_json_schema",
    "get_bitmask_shape",
    "get_compile_limits",
    "get_match_limits",
    "reset_token_bitmask",
    "rule_cache_info",
    "set_compile_limits",
    "set_match_limits",
    "set_rule_cache_capacity",
    "set_shared_mask_cache_limit",
    "shared_mask_cache_info",
]

__version__ = "0.1.0"
