"""`Token(id)` in EBNF: grammar elements that match one vocabulary token by id."""

from __future__ import annotations

import numpy as np
import pytest

import xgram

VOCAB = ["a", "b", "ab", "c", "<t>", "x", "y", "<s>", "z", "<u>"]


def compile_(ebnf, special=(4, 7, 9)):
    info = xgram.TokenizerInfo(VOCAB, special_token_ids=list(special))
    return xgram.GrammarCompiler(info).compile_grammar(ebnf)


def allowed(matcher):
    bitmask = np.zeros(xgram.get_bitmask_shape(1, len(VOCAB)), np.int32)
    matcher.fill_next_token_bitmask(bitmask)
    return [i for i in range(len(VOCAB)) if (int(bitmask[0, i // 32]) >> (i % 32)) & 1]


def test_token_elements_parse_print_and_round_trip():
    grammar = xgram.Grammar.from_ebnf('root ::= "a" Token(7) "b" | Token(3, 9)+')
    printed = str(grammar)
    assert "Token(7)" in printed and "Token(3)" in printed
    assert str(xgram.Grammar.from_ebnf(printed)) == printed


def test_a_rule_named_token_still_parses():
    grammar = xgram.Grammar.from_ebnf('root ::= Token ("x")\nToken ::= "t"')
    assert grammar.accepts("tx")


def test_masks_and_accepts_follow_token_ids():
    matcher = xgram.GrammarMatcher(
        compile_('root ::= "a" Token(7) "b" | Token(3, 9)+'), terminate_without_stop_token=True
    )
    assert allowed(matcher) == [0, 3, 9]
    assert matcher.accept_token(0)
    assert allowed(matcher) == [7]
    assert matcher.accept_token(7)
    assert allowed(matcher) == [1]
    assert matcher.accept_token(1) and matcher.is_completed()
    matcher.rollback(2)
    assert allowed(matcher) == [7]


def test_a_named_text_token_is_matched_by_id_only():
    # Token 3 spells "c"; named by Token(3) it is that token, and the text "c" is not it.
    compiled = compile_('root ::= Token(3) | "c" "c"')
    matcher = xgram.GrammarMatcher(compiled, terminate_without_stop_token=True)
    assert matcher.accept_token(3) and matcher.is_completed()
    spelled = xgram.GrammarMatcher(compiled, terminate_without_stop_token=True)
    assert spelled.accept_string("c") and not spelled.is_completed()
    assert not xgram.GrammarMatcher(compiled).accept_string("cx")


def test_text_cannot_spell_a_token_marker():
    grammar = xgram.Grammar.from_ebnf("root ::= [^]* Token(4)")
    assert not grammar.accepts("abc")
    assert not grammar.accepts("\u00ff")
    matcher = xgram.GrammarMatcher(compile_("root ::= [^]* Token(4)"))
    assert 4 in allowed(matcher)
    assert matcher.accept_string("xyz")
    assert matcher.accept_token(4) and matcher.is_completed()


def test_jump_forward_stops_before_a_token():
    matcher = xgram.GrammarMatcher(compile_('root ::= "ab" Token(4) "c"'))
    assert matcher.find_jump_forward_string() == "ab"


@pytest.mark.parametrize(
    "ebnf, words",
    [
        ("root ::= Token()", "expected a token id"),
        ("root ::= Token(a)", "expected a token id"),
        ("root ::= Token(1", "to close"),
        ("root ::= Token(99999999999)", "too large"),
    ],
)
def test_malformed_token_elements_are_located_errors(ebnf, words):
    with pytest.raises(xgram.GrammarError, match=words) as info:
        xgram.Grammar.from_ebnf(ebnf)
    assert info.value.line == 1


def test_token_id_outside_the_vocabulary_is_a_usage_error():
    with pytest.raises(xgram.UsageError, match="out of range"):
        compile_("root ::= Token(99)")
