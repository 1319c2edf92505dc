"""No single matcher call runs unbounded: the step and fill work limits (issue 22, item 5).

An ambiguous grammar makes each byte step of the matcher costlier as the input
grows. Past ``max_step_work`` (one step) or ``max_fill_work`` (all the steps of
one fill) the call raises MatchBudgetError and the matcher is as it was.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

import xgram

VOCAB = [b"a", b"b", b"ab", b"aab", b"abb", b"</s>"]
AMBIGUOUS = 'root ::= s\ns ::= "a" s "b" | s s | ""'


@pytest.fixture
def compiled() -> xgram.CompiledGrammar:
    info = xgram.TokenizerInfo(VOCAB, stop_token_ids=[5])
    return xgram.GrammarCompiler(info).compile_grammar(AMBIGUOUS)


@pytest.fixture
def restore_limits() -> Iterator[None]:
    saved = xgram.get_match_limits()
    yield
    xgram.set_match_limits(**saved)


def fed_matcher(compiled: xgram.CompiledGrammar, pairs: int) -> xgram.GrammarMatcher:
    matcher = xgram.GrammarMatcher(compiled)
    for _ in range(pairs):
        assert matcher.accept_token(2)  # "ab"
    return matcher


def mask_of(matcher: xgram.GrammarMatcher) -> np.ndarray:
    bitmask = np.zeros(xgram.get_bitmask_shape(1, len(VOCAB)), np.int32)
    matcher.fill_next_token_bitmask(bitmask)
    return bitmask


def test_limits_are_process_wide_settings(restore_limits) -> None:
    defaults = xgram.get_match_limits()
    assert defaults["max_step_work"] >= 100_000 and defaults["max_fill_work"] >= 1_000_000
    xgram.set_match_limits(max_step_work=1234)
    assert xgram.get_match_limits() == {
        "max_step_work": 1234,
        "max_fill_work": defaults["max_fill_work"],
    }
    with pytest.raises(xgram.UsageError):
        xgram.set_match_limits(max_fill_work=0)
    with pytest.raises(xgram.ArgumentTypeError):
        xgram.set_match_limits(max_step_work=1.5)


def test_a_step_over_the_limit_raises_and_leaves_the_matcher_unchanged(
    compiled, restore_limits
) -> None:
    xgram.set_match_limits(max_step_work=2_000)
    matcher = fed_matcher(compiled, 20)
    steps = 20
    with pytest.raises(xgram.MatchBudgetError, match="max_step_work"):
        while True:  # each "ab" makes the next steps costlier, until one is over
            matcher.accept_token(2)
            steps += 1
    assert 20 < steps < 1000
    assert matcher._handle.num_rollbackable_tokens == steps
    # The refused token left nothing behind: a reference matcher fed the same
    # tokens under no practical limit has the same mask and the same future.
    xgram.set_match_limits(max_step_work=10**9)
    reference = fed_matcher(compiled, steps)
    assert matcher.is_completed() == reference.is_completed()
    matcher.rollback(1)
    reference.rollback(1)
    assert np.array_equal(mask_of(matcher), mask_of(reference))
    assert matcher.accept_token(3) == reference.accept_token(3)  # "aab"


def test_a_fill_over_its_budget_raises_and_the_matcher_still_works(
    compiled, restore_limits
) -> None:
    matcher = fed_matcher(compiled, 60)
    expected = mask_of(fed_matcher(compiled, 60))  # not of `matcher`: its next fill would reuse it
    xgram.set_match_limits(max_fill_work=500)
    bitmask = np.zeros(xgram.get_bitmask_shape(1, len(VOCAB)), np.int32)
    with pytest.raises(xgram.MatchBudgetError, match="max_fill_work"):
        matcher.fill_next_token_bitmask(bitmask)
    xgram.set_match_limits(max_fill_work=10**9)
    assert np.array_equal(mask_of(matcher), expected)
    assert matcher.accept_token(2) and matcher._handle.num_rollbackable_tokens == 61


def test_token_sequences_over_budget_roll_back_what_they_accepted(compiled, restore_limits) -> None:
    matcher = fed_matcher(compiled, 40)
    xgram.set_match_limits(max_step_work=10**9)
    reference = fed_matcher(compiled, 40)
    xgram.set_match_limits(max_step_work=3_000)
    with pytest.raises(xgram.MatchBudgetError):
        matcher.validate_tokens([2] * 500)
    with pytest.raises(xgram.MatchBudgetError):
        matcher.accept_string("ab" * 500)
    # Draft tree: a chain of 500 "ab" tokens, one mask row per node.
    size = 500
    first_child = np.arange(1, size + 1, dtype=np.int32)
    first_child[-1] = -1
    bitmask = np.zeros((size, 1), np.int32)
    with pytest.raises(xgram.MatchBudgetError):
        matcher.traverse_draft_tree(first_child.tolist(), [-1] * size, [2] * size, bitmask)
    with pytest.raises(xgram.MatchBudgetError):
        matcher.traverse_draft_chain([2] * 500, np.zeros((501, 1), np.int32))
    assert matcher._handle.num_rollbackable_tokens == 40
    xgram.set_match_limits(max_step_work=10**9)
    assert np.array_equal(mask_of(matcher), mask_of(reference))


def test_whole_text_matching_is_bounded_too(restore_limits) -> None:
    grammar = xgram.Grammar.from_ebnf(AMBIGUOUS)
    xgram.set_match_limits(max_step_work=2_000)
    with pytest.raises(xgram.MatchBudgetError):
        grammar.accepts("ab" * 400)
    assert grammar.accepts("ab" * 5)


def test_json_grammars_stay_far_below_the_default_limits() -> None:
    # Deep nesting and long inputs of the builtin JSON grammar cost a constant
    # amount per step (the stack is shared, tail calls return directly).
    grammar = xgram.Grammar.builtin_json_grammar()
    assert grammar.accepts("[" * 20_000 + "]" * 20_000)
    assert grammar.accepts('{"a": [' + ", ".join(["1.5e3"] * 20_000) + "]}")
