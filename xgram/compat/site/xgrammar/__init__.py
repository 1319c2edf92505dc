"""xgram's XGrammar 0.2.9-compatible package (``python -m xgram.compat`` prints where it is).

Every public name of XGrammar 0.2.9 is here with XGrammar's signature,
defaults, return types and exceptions; the grammars are parsed, compiled and
matched by :mod:`xgram`. A name xgram cannot honour exactly raises
:class:`xgram.compat.NotSupportedByXgramError` when called. See
``xgram/compat/NAMES.md`` for the table of names.
"""

from typing import Any

# The submodules are attributes of the package, as in XGrammar.
from . import (  # noqa: F401
    builtin_structural_tag,
    compiler,
    config,
    contrib,
    exception,
    grammar,
    kernels,
    matcher,
    openai_tool_call_schema,
    structural_tag,
    testing,
    tokenizer_info,
)
from .builtin_structural_tag import (
    get_builtin_structural_tag,
    get_model_structural_tag,
    normalize_tool_choice,
    register_model_structural_tag,
)
from .compiler import CompiledGrammar, GrammarCompiler
from .config import (
    get_max_recursion_depth,
    get_serialization_version,
    max_recursion_depth,
    set_max_recursion_depth,
)
from .exception import (
    DeserializeFormatError,
    DeserializeVersionError,
    InvalidJSONError,
    InvalidStructuralTagError,
)
from .grammar import Grammar, StructuralTagItem
from .matcher import (
    BatchGrammarMatcher,
    GrammarMatcher,
    allocate_token_bitmask,
    apply_token_bitmask_inplace,
    bitmask_dtype,
    get_bitmask_shape,
    reset_token_bitmask,
)
from .structural_tag import StructuralTag
from .tokenizer_info import TokenizerInfo, VocabType

__all__ = [
    "exception",
    "structural_tag",
    "testing",
    "CompiledGrammar",
    "GrammarCompiler",
    "get_max_recursion_depth",
    "get_serialization_version",
    "max_recursion_depth",
    "set_max_recursion_depth",
    "hf",
    "DeserializeFormatError",
    "DeserializeVersionError",
    "InvalidJSONError",
    "InvalidStructuralTagError",
    "Grammar",
    "StructuralTagItem",
    "BatchGrammarMatcher",
    "GrammarMatcher",
    "allocate_token_bitmask",
    "apply_token_bitmask_inplace",
    "bitmask_dtype",
    "get_bitmask_shape",
    "reset_token_bitmask",
    "StructuralTag",
    "TokenizerInfo",
    "VocabType",
    "get_model_structural_tag",
    "normalize_tool_choice",
    "register_model_structural_tag",
    "get_builtin_structural_tag",
]


def __getattr__(name: str) -> Any:
    # xgrammar.hf is xgrammar.contrib.hf, which imports transformers: loaded on
    # first use, so ``import xgrammar`` stays light for engines that never use it.
    if name == "hf":
        from .contrib import hf

        return hf
    raise AttributeError(f"module 'xgrammar' has no attribute {name!r}")
