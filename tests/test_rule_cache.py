"""The process-wide cache of rule automata (cpp/rule_dfa_cache.h).

A rule whose body was built before, up to the names of the rules it calls, takes
its DFA from the cache. The automaton must be the same with or without the
cache, whatever the grammars built before; the budgets must hold on a hit; a
rule cached where its callees were productive must be trimmed again where one
is not.
"""

from __future__ import annotations

import json
from typing import Iterator, List

import pytest

import xgram

TOKENS = ["a", "b", "q", "z", "{", "}", '"', ":", ",", " ", "0", "1"]


@pytest.fixture()
def compiler() -> xgram.GrammarCompiler:
    return xgram.GrammarCompiler(xgram.TokenizerInfo(TOKENS), cache_enabled=False)


@pytest.fixture(autouse=True)
def fresh_rule_cache() -> Iterator[None]:
    before = xgram.rule_cache_info()["capacity"]
    xgram.set_rule_cache_capacity(32 << 20)
    xgram.clear_rule_cache()
    yield
    xgram.set_rule_cache_capacity(before)
    xgram.clear_rule_cache()


GRAMMARS = [
    # counted repetitions become helper rules, called from cached bodies
    'root ::= item{0,100} "." ( "x" item ){3,40}\nitem ::= [a-c]+ | "(" root ")"',
    # the same bodies under other names, and in another order
    'start ::= "." ( "x" elem ){3,40}\nelem ::= "(" start ")" | [a-c]+\nroot ::= elem{0,100} start',
    # differences inline their operands' rules
    'root ::= "\\"" (chars - ("age" | other)) "\\""\nchars ::= [a-z]*\nother ::= "id" | "ids"',
    'root ::= "\\"" (chars - ("age" | other)) "\\""\nchars ::= [a-z]*\nother ::= "agename" | "ids"',
    # lookaheads, recursion, a rule that can never complete
    'root ::= x "b"\nx ::= "a" tail (= "b")\ntail ::= "b" x | "b"',
    'root ::= "a" | "a" never\nnever ::= "b" never',
    'root ::= "q" opt opt\nopt ::= ("z" rest)? | "a" opt\nrest ::= "z" | "b" rest "b"',
    'root ::= "q" opt opt\nopt ::= ("z" rest)? | "a" opt\nrest ::= "b" rest "b"',
    # a sub-expression met again is keyed by reference to its first visit: bodies
    # that repeat different parts, or the same part in and out of a difference
    'root ::= ("ab" | "q") "," ("ab" | "q") "," "z"',
    'root ::= ("ab" | "q") "," "z" "," ("ab" | "q")',
    'root ::= ("ab" | "q") "," ("z" | "q") "," ("ab" | "q")',
    'root ::= ("ab" | "q") "," ("z" | "q") "," ("z" | "q")',
    'root ::= (w - "ab") "," (w - "ab") | w "," (w - "ba")\nw ::= [abq]*',
    'root ::= (w - "ab") "," (w - "ba") | w "," (w - "ab")\nw ::= [abq]*',
]


def fingerprints(compiler: xgram.GrammarCompiler, texts: List[str]) -> List[int]:
    out = []
    for text in texts:
        compiled = compiler.compile_grammar(xgram.Grammar.from_ebnf(text))
        out.append(compiled._handle.automaton_fingerprint)
    return out


def schema_grammars() -> List[str]:
    schemas = [
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        {"type": "object", "properties": {"b": {"type": "integer", "minimum": 3}}},
        {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 30},
        {"type": "object", "additionalProperties": {"type": "number"}},
        {},
    ]
    return [str(xgram.Grammar.from_json_schema(json.dumps(s), strict_mode=False)) for s in schemas]


def test_automata_do_not_depend_on_what_was_built_before(compiler: xgram.GrammarCompiler) -> None:
    texts = GRAMMARS + schema_grammars()
    xgram.set_rule_cache_capacity(0)
    without = fingerprints(compiler, texts)
    xgram.set_rule_cache_capacity(32 << 20)
    cold = fingerprints(compiler, texts)
    assert xgram.rule_cache_info()["hits"] > 0  # the grammars share rules
    warm = fingerprints(compiler, texts)
    xgram.clear_rule_cache()
    backwards = fingerprints(compiler, texts[::-1])[::-1]
    assert cold == without
    assert warm == without
    assert backwards == without
    info = xgram.rule_cache_info()
    assert info["entries"] > 0 and 0 < info["bytes"] <= info["capacity"]


def test_a_cached_rule_is_trimmed_again_where_a_callee_cannot_complete() -> None:
    # `opt` is keyed the same in both grammars; in the second its callee `rest`
    # never ends, so `opt` must lose the branch that calls it.
    finite = xgram.Grammar.from_ebnf(GRAMMARS[6])
    assert finite.accepts("qzbzbazz") and finite.accepts("q")
    hits = xgram.rule_cache_info()["hits"]
    endless = xgram.Grammar.from_ebnf(GRAMMARS[7])
    assert endless.accepts("q") and endless.accepts("qaaa")
    assert xgram.rule_cache_info()["hits"] > hits
    assert not endless.accepts_prefix("qz")
    assert not endless.accepts_prefix("qaz")


def test_differences_with_other_operands_do_not_share(compiler: xgram.GrammarCompiler) -> None:
    first = xgram.Grammar.from_ebnf(GRAMMARS[2])
    second = xgram.Grammar.from_ebnf(GRAMMARS[3])
    assert not first.accepts('"id"') and first.accepts('"agename"')
    assert not second.accepts('"agename"') and second.accepts('"id"')


def test_a_hit_is_charged_against_the_state_budget(compiler: xgram.GrammarCompiler) -> None:
    text = 'root ::= ("a" | "b")* "abba" ("a" | "b"){0,12} "q"'
    compiler.compile_grammar(xgram.Grammar.from_ebnf(text))
    assert xgram.rule_cache_info()["entries"] > 0
    limits = xgram.get_compile_limits()
    try:
        xgram.set_compile_limits(max_states=50)
        with pytest.raises(xgram.CompileBudgetError, match="state budget"):
            compiler.compile_grammar(xgram.Grammar.from_ebnf(text))
    finally:
        xgram.set_compile_limits(max_states=limits[0], max_seconds=limits[1])
    assert xgram.rule_cache_info()["hits"] > 0


def test_capacity_zero_turns_the_cache_off(compiler: xgram.GrammarCompiler) -> None:
    xgram.set_rule_cache_capacity(0)
    fingerprints(compiler, GRAMMARS)
    info = xgram.rule_cache_info()
    assert info["entries"] == 0 and info["hits"] == 0 and info["capacity"] == 0
    with pytest.raises(xgram.UsageError, match=">= 0"):
        xgram.set_rule_cache_capacity(-1)


def test_a_full_cache_is_emptied_not_overrun(compiler: xgram.GrammarCompiler) -> None:
    xgram.set_rule_cache_capacity(4000)
    fingerprints(compiler, GRAMMARS + schema_grammars())
    info = xgram.rule_cache_info()
    assert info["bytes"] <= 4000
    assert info["entries"] > 0  # emptied when full, then filled again
