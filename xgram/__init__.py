"""xgram: exact, fast constrained decoding.

A grammar (EBNF, JSON) is compiled into a byte-level pushdown automaton; a
matcher runs it with a graph-structured stack.
"""

from __future__ import annotations

from .batch import BatchGrammarMatcher, BatchRowError
from .compiler import CompiledGrammar, GrammarCompiler
from .config import (
    clear_rule_cache,
    get_compile_limits,
    rule_cache_info,
    set_compile_limits,
    set_rule_cache_capacity,
)
from .errors import (
    CompileBudgetError,
    GrammarError,
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
from .structural_tag import StructuralTagError
from .tokenizer_info import TokenizerInfo, VocabType

__all__ = [
    "BatchGrammarMatcher",
    "BatchRowError",
    "CheckResult",
    "CompileBudgetError",
    "CompiledGrammar",
    "Grammar",
    "GrammarCompiler",
    "GrammarError",
    "GrammarMatcher",
    "SchemaError",
    "SchemaRelaxedWarning",
    "StructuralTagError",
    "TokenizerInfo",
    "UsageError",
    "VocabType",
    "XgramError",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "clear_rule_cache",
    "get_bitmask_shape",
    "get_compile_limits",
    "reset_token_bitmask",
    "rule_cache_info",
    "set_compile_limits",
    "set_rule_cache_capacity",
]

__version__ = "0.1.0"
