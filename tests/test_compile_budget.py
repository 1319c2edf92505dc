"""One time budget over a whole compile, and cancelling a compile from another thread.

``GrammarCompiler.compile_*(max_seconds=..., cancel=...)`` and the process-wide
``set_compile_limits(max_seconds=...)`` bound the JSON Schema conversion, the EBNF
parse, the IR passes and the automaton together (issue 22, item 5).
"""

from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest

import xgram

VOCAB = [b"a", b"b", b"w", b"0", b"1", b'"', b"</s>"]


@pytest.fixture(scope="module")
def compiler() -> xgram.GrammarCompiler:
    info = xgram.TokenizerInfo(VOCAB, stop_token_ids=[6])
    return xgram.GrammarCompiler(info, cache_enabled=False)


@pytest.fixture
def default_limits() -> Iterator[None]:
    saved = xgram.get_compile_limits()
    yield
    xgram.set_compile_limits(max_states=saved[0], max_seconds=saved[1])


def big_enum(size: int) -> dict:
    return {"enum": [f"w{i}" for i in range(size)]}


def big_alternation(size: int) -> str:
    return "root ::= " + " | ".join(f'"w{i}"' for i in range(size))


def test_a_cancelled_token_stops_the_compile_at_once(compiler) -> None:
    token = xgram.CancellationToken()
    assert not token.cancelled
    token.cancel()
    assert token.cancelled and "cancelled=True" in repr(token)
    with pytest.raises(xgram.CompileCancelledError, match="cancelled"):
        compiler.compile_grammar('root ::= "a"', cancel=token)
    # A budget error handler catches cancellations too.
    assert issubclass(xgram.CompileCancelledError, xgram.CompileBudgetError)


@pytest.mark.parametrize("stage", ["convert", "parse"])
def test_cancel_from_another_thread_stops_a_running_compile(compiler, stage: str) -> None:
    token = xgram.CancellationToken()
    timer = threading.Timer(0.2, token.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(xgram.CompileCancelledError):
        if stage == "convert":  # the Python converter polls the token
            compiler.compile_json_schema(big_enum(400_000), cancel=token)
        else:  # the C++ parser and passes poll it
            compiler.compile_grammar(big_alternation(600_000), cancel=token)
    elapsed = time.monotonic() - started
    timer.join()
    assert elapsed < 5.0, f"the compile ran {elapsed:.1f} s after being cancelled at 0.2 s"


def test_max_seconds_counts_from_the_call_over_every_stage(compiler) -> None:
    started = time.monotonic()
    with pytest.raises(xgram.CompileBudgetError, match="time budget"):
        compiler.compile_json_schema(big_enum(400_000), max_seconds=0.3)
    assert time.monotonic() - started < 5.0


def test_the_process_wide_budget_covers_grammar_construction(default_limits) -> None:
    xgram.set_compile_limits(max_seconds=0.2)
    with pytest.raises(xgram.CompileBudgetError, match="time budget"):
        xgram.Grammar.from_ebnf(big_alternation(600_000))


def test_an_outer_deadline_still_applies_inside_a_nested_compile(compiler) -> None:
    # compile_json_schema enters a scope, and the converter's Grammar calls
    # enter their own with the process-wide budget: the call's 0.3 s must win.
    started = time.monotonic()
    with pytest.raises(xgram.CompileBudgetError):
        compiler.compile_json_schema(big_enum(400_000), max_seconds=0.3)
    assert time.monotonic() - started < 5.0


def test_a_compile_within_its_budget_works_and_leaves_no_scope_behind(compiler) -> None:
    token = xgram.CancellationToken()
    compiled = compiler.compile_json_schema(
        {"type": "string", "maxLength": 3}, max_seconds=30, cancel=token
    )
    matcher = xgram.GrammarMatcher(compiled)
    assert matcher.accept_string('"ab"') and matcher.is_completed()
    # The token is not consulted after the call: cancelling it now changes nothing.
    token.cancel()
    assert xgram.Grammar.from_ebnf('root ::= "a"').accepts("a")
    assert xgram.GrammarMatcher(compiled).accept_string('"a"')


def test_after_a_cancelled_compile_the_same_grammar_compiles(compiler) -> None:
    token = xgram.CancellationToken()
    token.cancel()
    grammar = xgram.Grammar.from_ebnf(big_alternation(2000))
    with pytest.raises(xgram.CompileCancelledError):
        compiler.compile_grammar(grammar, cancel=token)
    compiled = compiler.compile_grammar(grammar)
    assert xgram.GrammarMatcher(compiled).accept_string("w1999")


def test_one_token_cancels_compiles_on_several_threads(compiler) -> None:
    token = xgram.CancellationToken()
    outcomes: list = []

    def compile_one(size: int) -> None:
        try:
            compiler.compile_grammar(big_alternation(size), cancel=token)
            outcomes.append("compiled")
        except xgram.CompileCancelledError:
            outcomes.append("cancelled")

    threads = [threading.Thread(target=compile_one, args=(400_000 + i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    token.cancel()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == ["cancelled"] * 3


@pytest.mark.parametrize(
    ("max_seconds", "cancel", "error"),
    [
        (0, None, xgram.UsageError),
        (-1.0, None, xgram.UsageError),
        (float("nan"), None, xgram.UsageError),
        ("5", None, xgram.ArgumentTypeError),
        (None, "token", xgram.ArgumentTypeError),
        (None, threading.Event(), xgram.ArgumentTypeError),
    ],
)
def test_bad_budget_arguments_are_usage_errors(compiler, max_seconds, cancel, error) -> None:
    with pytest.raises(error):
        compiler.compile_grammar('root ::= "a"', max_seconds=max_seconds, cancel=cancel)
    # The failed call entered no scope: the next compile is unaffected.
    assert compiler.compile_grammar('root ::= "b"') is not None


def test_every_compile_method_takes_the_budget_arguments(compiler) -> None:
    token = xgram.CancellationToken()
    token.cancel()
    calls = [
        lambda: compiler.compile_grammar('root ::= "a"', cancel=token),
        lambda: compiler.compile_regex("a+", cancel=token),
        lambda: compiler.compile_json_schema({"type": "integer"}, cancel=token),
        lambda: compiler.compile_builtin_json_grammar(cancel=token),
        lambda: compiler.compile_lark('start: "a"', cancel=token),
        lambda: compiler.compile_structural_tag(
            {"type": "structural_tag", "format": {"type": "const_string", "value": "a"}},
            cancel=token,
        ),
    ]
    for call in calls:
        with pytest.raises(xgram.CompileCancelledError):
            call()


def test_a_grammar_whose_automaton_build_ran_out_of_time_compiles_later(compiler) -> None:
    # The deadline passes inside the automaton build (a DFA of 2^15 states): the
    # grammar object builds its automaton once, under a call_once, and must not
    # keep the failed attempt; the rule cache must not keep a partial rule.
    grammar = xgram.Grammar.from_ebnf('root ::= ("a" | "b")* "a" ("a" | "b"){15}')
    with pytest.raises(xgram.CompileBudgetError, match="time budget"):
        compiler.compile_grammar(grammar, max_seconds=0.001)
    matcher = xgram.GrammarMatcher(compiler.compile_grammar(grammar))
    assert matcher.accept_string("b" + "a" * 16) and matcher.is_completed()
    other = xgram.GrammarMatcher(compiler.compile_grammar(grammar))
    assert other.accept_string("b" * 17) and not other.is_completed()  # no "a" 16 from the end
