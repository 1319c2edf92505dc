"""Masks where the root rule may end, checked exactly against accepting each token.

The mask walk steps through the ends of a rule nothing calls (the root) as plain
DFA moves, since nothing but stop tokens can follow them, and keeps that rule's
caller-independent mask part apart from a called rule of the same shape, whose
end is followed by its caller's text.
"""

from __future__ import annotations

import numpy as np
import pytest

import xgram
from xgram import _core

EXTRA = b"ab ab) a)b ) )) ( <f <fn= fn= zz! ! !! xyz".split()
VOCAB = [bytes([c]) for c in range(32, 127)] + EXTRA
VOCAB += [b"\xc3\xa9", b"\xc3", b"\xa9x", b'"', b'a"', b"\\", b"\n", b"\x01"]
STOP = len(VOCAB)

# x is too big to inline and called twice, so it stays a rule: its states have
# the structural hashes of the root's states in the grammar with that body as root.
BODY = '([a-c] | "0" [d-f] | "1" [g-i] | "2" [j-l] | "3" [m-o] | "4" [p-r] | "5" [s-u] | "(")*'
CASES = [
    ("root ::= " + BODY, "ab0d("),
    ('root ::= "<" x ")" x\nx ::= ' + BODY, "<ab0d("),
    ('root ::= [^]* - ([^]* "<fn=" [^]*)', "a<f"),
    ("root ::= [^]*", "a\xe9"),
]


def token_accepted(matcher: xgram.GrammarMatcher, token_id: int) -> bool:
    """Whether the matcher accepts ``token_id`` next (asked on a fork)."""
    return matcher.fork().accept_token(token_id)


def check_every_prefix(info: xgram.TokenizerInfo, grammar: str, text: str) -> None:
    """Compare the mask after each prefix of ``text`` with token-by-token acceptance."""
    compiled = xgram.GrammarCompiler(info, cache_enabled=False).compile_grammar(grammar)
    matcher = xgram.GrammarMatcher(compiled)
    bitmask = np.zeros(xgram.get_bitmask_shape(1, info.vocab_size), np.int32)
    for end in range(len(text) + 1):
        matcher.reset()
        assert matcher.accept_string(text[:end])
        matcher.fill_next_token_bitmask(bitmask)
        bits = np.unpackbits(bitmask.view(np.uint8), bitorder="little")
        for token_id, token in enumerate(VOCAB):
            expected = token_accepted(matcher, token_id)
            assert bool(bits[token_id]) == expected, (grammar, text[:end], token)


@pytest.mark.parametrize("order", [1, -1], ids=["root-first", "called-first"])
def test_uncalled_root_and_called_twin_masks_are_exact(order: int) -> None:
    """Each grammar's masks are exact, whichever of the twins was classified first."""
    info = xgram.TokenizerInfo(VOCAB + [b"</s>"], stop_token_ids=[STOP])
    _core.clear_shared_mask_cache()
    for grammar, text in CASES[::order]:
        check_every_prefix(info, grammar, text)
