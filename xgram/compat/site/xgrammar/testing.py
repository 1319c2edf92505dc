"""XGrammar's testing helpers (unstable in XGrammar too), mapped onto xgram.

The helpers that inspect XGrammar's internals (rule FSMs, grammar passes,
range-regex generators) raise :class:`~xgram.compat.NotSupportedByXgramError`.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Literal, Optional, Tuple, Type, Union

import torch
from pydantic import BaseModel

import xgram

from ._shim import not_supported, translate_errors
from .compiler import CompiledGrammar, GrammarCompiler
from .grammar import Grammar
from .matcher import GrammarMatcher, bitmask_dtype
from .tokenizer_info import TokenizerInfo

_INTERNALS = "it inspects XGrammar's internal grammar representation, which xgram does not have"


def _json_schema_to_ebnf(
    schema: Union[str, Type[BaseModel], Dict[str, Any]],
    *,
    any_whitespace: bool = True,
    indent: Optional[int] = None,
    separators: Optional[Tuple[str, str]] = None,
    max_whitespace_cnt: Optional[int] = None,
    strict_mode: bool = True,
    json_format: Literal[
        "json",
        "qwen_xml",
        "minimax_xml",
        "minimax_m3_xml",
        "deepseek_xml",
        "glm_xml",
        "cohere_xml",
        "kimi_k3_xml",
        "deepseek_v4_1_xml",
        "gemma",
    ] = "json",
    any_order: bool = False,
) -> str:
    """The EBNF of :meth:`Grammar.from_json_schema` (``json_format="json"`` only)."""
    if json_format != "json":
        raise not_supported(
            f"testing._json_schema_to_ebnf(json_format={json_format!r})",
            "xgram writes JSON schemas as JSON only",
        )
    grammar = Grammar.from_json_schema(
        schema,
        any_whitespace=any_whitespace,
        indent=indent,
        separators=separators,
        strict_mode=strict_mode,
        max_whitespace_cnt=max_whitespace_cnt,
        any_order=any_order,
    )
    return str(grammar)


@translate_errors
def _regex_to_ebnf(regex: str, with_rule_name: bool = True) -> str:
    """The EBNF of :meth:`Grammar.from_regex`; without the rule name, its one rule's body."""
    grammar = xgram.Grammar.from_regex(regex)
    if with_rule_name:
        return str(grammar)
    lines = str(grammar).splitlines()
    if len(lines) != 1:
        raise not_supported(
            "testing._regex_to_ebnf(with_rule_name=False)",
            f"xgram's grammar for {regex!r} has {len(lines)} rules, not one body",
        )
    return lines[0].split(" ::= ", 1)[1]


@translate_errors
def _ebnf_to_grammar_no_normalization(ebnf_string: str, root_rule_name: str = "root") -> Grammar:
    """The grammar of ``ebnf_string`` as written: rules are not inlined or merged."""
    from xgram import _core

    return Grammar._wrap(xgram.Grammar(_core.Grammar.from_ebnf(ebnf_string, root_rule_name, False)))


def _get_matcher_from_grammar(grammar: Union[Grammar, str], **kwargs: Any) -> GrammarMatcher:
    """A matcher over an empty vocabulary (strings only), terminating without a stop token."""
    return _get_matcher_from_grammar_and_tokenizer_info(
        grammar, None, terminate_without_stop_token=True, **kwargs
    )


def _is_grammar_accept_string(
    grammar: Union[Grammar, str],
    input_str: str,
    *,
    debug_print: bool = False,
    print_time: bool = False,
    require_termination: bool = True,
) -> bool:
    """Whether ``grammar`` (or EBNF text) accepts ``input_str``.

    With ``require_termination=False``: whether ``input_str`` is a prefix of a sentence.
    """
    inner = (grammar if isinstance(grammar, Grammar) else Grammar.from_ebnf(grammar))._xgram
    start = time.monotonic_ns()
    accepted = inner.accepts(input_str) if require_termination else inner.accepts_prefix(input_str)
    if print_time:
        elapsed_us = (time.monotonic_ns() - start) / 1e3
        print(f"Accepting {input_str}, result: {accepted}, time: {elapsed_us} us")
    if debug_print:
        print(f"[xgrammar drop-in] grammar accepts {input_str!r}: {accepted}")
    return accepted


def _unpacked_rows(bitmask: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Bool tensor ``(rows, vocab_size)``: bit ``j % 32`` of word ``j // 32`` of each row."""
    rows = bitmask.reshape(-1, bitmask.shape[-1]).to(torch.int64)
    shifts = torch.arange(32, dtype=torch.int64, device=bitmask.device)
    bits = (rows.unsqueeze(-1) >> shifts) & 1
    return bits.reshape(rows.shape[0], -1)[:, :vocab_size].bool()


def _check_cpu_int32(bitmask: torch.Tensor, name: str) -> None:
    if bitmask.device.type != "cpu":
        raise ValueError(f"{name} should be on CPU.")
    if bitmask.dtype != bitmask_dtype:
        raise ValueError(f"{name} should be of type {bitmask_dtype}.")


def _get_masked_tokens_from_bitmask(
    bitmask: torch.Tensor, vocab_size: int, index: int = 0
) -> List[int]:
    """The ids of the tokens that row ``index`` of ``bitmask`` rejects."""
    _check_cpu_int32(bitmask, "bitmask")
    row = bitmask if bitmask.dim() == 1 else bitmask[index]
    allowed = _unpacked_rows(row, vocab_size)[0]
    return torch.nonzero(~allowed).flatten().tolist()


def _is_single_token_bitmask(
    bitmask: torch.Tensor, vocab_size: int, index: int = 0
) -> Tuple[bool, int]:
    """``(True, id)`` when row ``index`` allows exactly one token, else ``(False, -1)``."""
    row = bitmask if bitmask.dim() == 1 else bitmask[index]
    allowed = torch.nonzero(_unpacked_rows(row, vocab_size)[0]).flatten().tolist()
    return (True, allowed[0]) if len(allowed) == 1 else (False, -1)


def bool_mask_to_bitmask(bool_mask: torch.Tensor) -> torch.Tensor:
    """The int32 bitmask of a ``(batch, vocab)`` bool mask, padded with allowed bits."""
    rows, width = bool_mask.shape
    padded = torch.ones((rows, -(-width // 32) * 32), dtype=torch.int64, device=bool_mask.device)
    padded[:, :width] = bool_mask.to(torch.int64)
    weights = torch.tensor([1 << i for i in range(32)], dtype=torch.int64, device=bool_mask.device)
    words = (padded.view(rows, -1, 32) * weights).sum(dim=2)
    # Words past 2**31 wrap to negative int32 values, as the bit layout wants.
    return torch.where(words >= 1 << 31, words - (1 << 32), words).to(torch.int32)


def bitmask_to_bool_mask(bit_mask: torch.Tensor, vocab_size: Optional[int] = None) -> torch.Tensor:
    """The ``(batch, vocab_size)`` bool mask of an int32 CPU bitmask."""
    _check_cpu_int32(bit_mask, "bit_mask")
    width = bit_mask.shape[1] * 32
    if vocab_size is None:
        vocab_size = width
    if vocab_size > width:
        raise ValueError(
            "vocab_size should be less than or equal to the size represented by bit_mask."
        )
    return _unpacked_rows(bit_mask, vocab_size)


def _get_matcher_from_grammar_and_tokenizer_info(
    grammar: Union[Grammar, str], tokenizer_info: Optional[TokenizerInfo] = None, **kwargs: Any
) -> GrammarMatcher:
    """A matcher for ``grammar`` (or EBNF text) and ``tokenizer_info`` (default: empty)."""
    if tokenizer_info is None:
        tokenizer_info = TokenizerInfo([])
    compiled = GrammarCompiler(tokenizer_info, cache_enabled=False).compile_grammar(grammar)
    return GrammarMatcher(compiled, **kwargs)


def _traverse_draft_tree(
    retrieve_next_token: torch.Tensor,
    retrieve_next_sibling: torch.Tensor,
    draft_tokens: torch.Tensor,
    matcher: GrammarMatcher,
    allocate_token_bitmask: torch.Tensor,
    time_threshold: float = -1.0,
) -> bool:
    """Old spelling of :meth:`GrammarMatcher.traverse_draft_tree`."""
    return matcher.traverse_draft_tree(
        retrieve_next_token,
        retrieve_next_sibling,
        draft_tokens,
        allocate_token_bitmask,
        time_threshold,
    )


def _is_rule_fsm_accept_string(grammar: Grammar, rule_id: int, input_str: str) -> bool:
    """Not supported: it reads XGrammar's per-rule FSMs, which xgram does not build."""
    raise not_supported("testing._is_rule_fsm_accept_string", _INTERNALS)


def _get_allow_empty_rule_ids(compiled_grammar: CompiledGrammar) -> List[int]:
    """Not supported: it reads XGrammar's rule ids, which xgram's grammars do not have."""
    raise not_supported("testing._get_allow_empty_rule_ids", _INTERNALS)


def _generate_range_regex(start: Optional[int] = None, end: Optional[int] = None) -> str:
    """Not supported: xgram spells numeric ranges as EBNF, not as regexes."""
    raise not_supported(
        "testing._generate_range_regex", "xgram spells numeric ranges as EBNF, not as regexes"
    )


def _generate_float_regex(
    start: Optional[float] = None,
    end: Optional[float] = None,
    exclusive_start: bool = False,
    exclusive_end: bool = False,
) -> str:
    """Not supported: xgram spells numeric ranges as EBNF, not as regexes."""
    raise not_supported(
        "testing._generate_float_regex", "xgram spells numeric ranges as EBNF, not as regexes"
    )


def _print_grammar_fsms(grammar: Grammar) -> str:
    """Not supported: it reads XGrammar's per-rule FSMs, which xgram does not build."""
    raise not_supported("testing._print_grammar_fsms", _INTERNALS)


class GrammarFunctor:
    """Not supported: XGrammar's separate grammar passes; xgram normalizes in one C++ step."""

    @staticmethod
    def structure_normalizer(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.structure_normalizer", _INTERNALS)

    @staticmethod
    def rule_inliner(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.rule_inliner", _INTERNALS)

    @staticmethod
    def byte_string_fuser(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.byte_string_fuser", _INTERNALS)

    @staticmethod
    def dead_code_eliminator(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.dead_code_eliminator", _INTERNALS)

    @staticmethod
    def lookahead_assertion_analyzer(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.lookahead_assertion_analyzer", _INTERNALS)

    @staticmethod
    def grammar_optimizer(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.grammar_optimizer", _INTERNALS)

    @staticmethod
    def fsm_builder(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.fsm_builder", _INTERNALS)

    @staticmethod
    def repetition_normalizer(grammar: Grammar) -> Grammar:
        """Not supported: one of XGrammar's separate grammar passes (see the class)."""
        raise not_supported("testing.GrammarFunctor.repetition_normalizer", _INTERNALS)
