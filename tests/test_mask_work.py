"""How much run-time work a mask takes, counted (not timed): tokens checked per fill.

These guard the optimisations that keep masks cheap: counted repetitions inside
strings, and reuse of the previous mask while the live threads are unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import xgram

LLAMA3 = Path(__file__).resolve().parents[2] / "shared" / "tokenizers" / "llama3" / "tokenizer.json"


@pytest.fixture(scope="module")
def llama3():
    tokenizers = pytest.importorskip("tokenizers")
    if not LLAMA3.exists():
        pytest.skip(f"{LLAMA3} missing: 2 mask-work cases skipped")
    tok = tokenizers.Tokenizer.from_file(str(LLAMA3))
    return tok, xgram.TokenizerInfo.from_huggingface(tok)


def walk(info, tok, grammar, text):
    compiled = xgram.GrammarCompiler(info).compile_grammar(grammar)
    matcher = xgram.GrammarMatcher(compiled)
    bm = np.zeros(xgram.get_bitmask_shape(1, info.vocab_size), np.int32)
    stats = []
    for tid in tok.encode(text, add_special_tokens=False).ids:
        matcher.fill_next_token_bitmask(bm)
        assert np.unpackbits(bm.view(np.uint8), bitorder="little")[tid]
        stats.append(matcher._handle.last_fill_stats())
        assert matcher.accept_token(tid)
    return stats


def test_bounded_repetition_in_a_string_checks_few_tokens(llama3) -> None:
    tok, info = llama3
    # Every multi-character token crosses an iteration of the counted repetition;
    # they must be decided by the remaining count, not checked one by one.
    stats = walk(
        info, tok, r'root ::= "\"" [^"\\]{0,2000} "\""', '"' + "lorem ipsum dolor " * 20 + '"'
    )
    assert max(candidates for _, _, candidates in stats) < 2000


def test_unchanged_threads_reuse_the_previous_mask(llama3) -> None:
    tok, info = llama3
    text = '{"description": "' + "a long free text value with many words " * 10 + '"}'
    stats = walk(info, tok, xgram.Grammar.builtin_json_grammar(), text)
    reused = sum(1 for _, states, _ in stats if states == 0)  # a memo hit looks at no state
    assert reused > len(stats) // 2


def test_grammars_share_the_caller_independent_work() -> None:
    from xgram import _core

    vocab = [bytes([c]) for c in range(32, 127)] + [b"ab", b'a"', b'"}', b"12", b'", "', b"xyz"]
    info = xgram.TokenizerInfo(vocab)
    first = 'root ::= "{\\"k\\": \\"" [^"\\\\]{0,50} "\\"}"'
    second = 'root ::= "[" ("\\"" [^"\\\\]{0,50} "\\"" | [0-9]{1,9}) ("," "\\"" [^"\\\\]{0,50} "\\"")* "]"'
    _core.clear_shared_mask_cache()
    a = xgram.GrammarCompiler(info, precompute=True, cache_enabled=False).compile_grammar(first)
    after_first = _core.shared_mask_cache_stats()[0]
    b = xgram.GrammarCompiler(info, precompute=True, cache_enabled=False).compile_grammar(second)
    added = _core.shared_mask_cache_stats()[0] - after_first
    # The repetition helper `[^"\\]` is the same structure in both: its entries are reused.
    assert added < b.num_cached_states
    assert a.num_cached_states > 0
