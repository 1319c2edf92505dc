"""Regression tests for what the fuzz targets in fuzz/ found (see fuzz/README.md).

Each test is the minimised input of one finding; every finding is fixed. The
UBSan finding shows only under the instrumented build
(``bash scripts/sanitize.sh address tests/test_fuzz_regressions.py``); in the
normal build its test checks that the path still works.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from typing import Any, Iterator

import numpy as np
import pytest

import xgram

VOCAB = [b"a", b"b", b"ab", b"\xc3", b"\xa9", b"<eos>"]


@pytest.fixture(scope="module")
def compiler() -> xgram.GrammarCompiler:
    info = xgram.TokenizerInfo(VOCAB, vocab_size=len(VOCAB) + 2, stop_token_ids=[5])
    return xgram.GrammarCompiler(info, max_threads=1)


def bitmask_for(compiled: xgram.CompiledGrammar) -> np.ndarray:
    return np.zeros(xgram.get_bitmask_shape(1, compiled.tokenizer_info.vocab_size), np.int32)


def allowed(bitmask: np.ndarray, token: int) -> bool:
    return bool((int(bitmask[0, token // 32]) >> (token % 32)) & 1)


@pytest.mark.parametrize(
    "grammar",
    [
        'root ::= "a" (= "b")',
        'root ::= x (= [0-9])\nx ::= [0-9] (= "")',
        'root ::= "(" root? ")" (= "b")',
    ],
)
def test_a_lookahead_on_the_root_is_refused(grammar: str) -> None:
    # fuzz_ebnf: `root ::= [\n\-] [^a] (= ...)` and, after the first fix,
    # `root ::= r1 (= [0-9])` with a non-inlined r1: the mask allowed tokens that
    # end the root, accept_token refused them. Every parse ends with the outermost
    # root, after which the input ends, so such a grammar accepts no string.
    with pytest.raises(xgram.GrammarError, match="accepts no string"):
        xgram.Grammar.from_ebnf(grammar).accepts("a")


@pytest.mark.parametrize(
    ("grammar", "a_allowed"),
    [
        ('root ::= x\nx ::= "a" (= "b")', False),  # nothing follows x but the end
        ('root ::= x "b"\nx ::= "a" (= "b")', True),  # here the caller meets it
        # Here it cannot, but the live thread still expects "c": the matcher (and so
        # the mask) finds the dead end only at the next byte, which nothing passes.
        ('root ::= x "c"\nx ::= "a" (= "b")', True),
        ('root ::= x ("b" | "c")\nx ::= "a" (= "b")', True),
    ],
)
def test_mask_agrees_with_accept_token_at_a_lookahead_end(grammar: str, a_allowed: bool) -> None:
    # The mask cache took a token that ends a rule with a pending lookahead as
    # valid in every context; whether the lookahead can be met depends on what
    # follows the rule, so such a token is now checked in its context.
    info = xgram.TokenizerInfo([b"a", b"b", b"c", b"ab", b"<eos>"], stop_token_ids=[4])
    compiled = xgram.GrammarCompiler(info).compile_grammar(grammar)
    matcher = xgram.GrammarMatcher(compiled)
    bitmask = np.zeros(xgram.get_bitmask_shape(1, 5), np.int32)
    matcher.fill_next_token_bitmask(bitmask)
    assert allowed(bitmask, 0) == a_allowed
    assert matcher.accept_token(0) == a_allowed


@pytest.mark.parametrize("terminate_without_stop_token", [False, True])
def test_mask_agrees_with_accept_token_for_a_stop_token_that_spells_text(
    terminate_without_stop_token: bool,
) -> None:
    # fuzz_matcher: the builtin JSON grammar with override_stop_tokens=[id of b"u"],
    # after b"n". A stop token is a stop whatever it spells: the mask now allows
    # it only where the root can end, as accept_token does. (XGrammar 0.2.9 allows
    # and accepts it there, then terminates: it reads the token as text first.)
    info = xgram.TokenizerInfo([b"a", b"b", b"<eos>"], stop_token_ids=[2])
    compiled = xgram.GrammarCompiler(info).compile_grammar('root ::= "ab"')
    matcher = xgram.GrammarMatcher(
        compiled,
        override_stop_tokens=[1],
        terminate_without_stop_token=terminate_without_stop_token,
    )
    assert matcher.accept_token(0)
    bitmask = bitmask_for(compiled)
    matcher.fill_next_token_bitmask(bitmask)
    assert allowed(bitmask, 1) == matcher.accept_token(1)


@pytest.mark.parametrize("text", ['root ::= "\\é"', "root ::= [\\€]", 'root ::= "a\\😀"'])
def test_escaped_non_ascii_character_is_a_grammar_error(text: str) -> None:
    # fuzz_ebnf: a mutated llama.cpp grammar, minimised to `m::="\<U+FFFD>`.
    with pytest.raises(xgram.GrammarError, match="escape"):
        xgram.Grammar.from_ebnf(text)


def test_fill_refuses_a_read_only_bitmask(compiler) -> None:
    # fuzz_matcher: the fill wrote through a numpy view of an immutable bytes object.
    compiled = compiler.compile_grammar('root ::= "a"+')
    frozen = bytes(bitmask_for(compiled).nbytes)
    bitmask = np.frombuffer(frozen, np.int32).reshape(1, -1)
    with pytest.raises(xgram.UsageError, match="read-only"):
        xgram.GrammarMatcher(compiled).fill_next_token_bitmask(bitmask)
    assert frozen == bytes(len(frozen))


def test_apply_mask_refuses_read_only_logits(compiler) -> None:
    # fuzz_matcher, the same gap in apply_token_bitmask_inplace.
    frozen = bytes(4 * 8)
    logits = np.frombuffer(frozen, np.float32).reshape(1, -1)
    with pytest.raises(xgram.UsageError, match="read-only"):
        xgram.apply_token_bitmask_inplace(logits, np.zeros((1, 1), np.int32))
    assert frozen == bytes(len(frozen))


def test_draft_token_past_int32_is_a_usage_error(compiler) -> None:
    # fuzz_matcher: numpy's OverflowError escaped while packing the draft tokens.
    compiled = compiler.compile_grammar('root ::= "a"+')
    matcher = xgram.GrammarMatcher(compiled)
    bitmask = np.zeros((2, bitmask_for(compiled).shape[1]), np.int32)
    with pytest.raises(xgram.UsageError, match="draft_tokens"):
        matcher.traverse_draft_tree([1, -1], [-1, -1], [0, 2**40], bitmask)


@pytest.mark.parametrize("entries", [7, None, "%%% not base64 %%%"])
def test_deserialize_reports_corrupt_entries_as_usage_error(compiler, entries) -> None:
    # fuzz_deserialize: a non-string or broken base64 'entries' field escaped as
    # TypeError or binascii.Error instead of the documented UsageError.
    compiled = compiler.compile_grammar('root ::= "a"+')
    xgram.GrammarMatcher(compiled).fill_next_token_bitmask(bitmask_for(compiled))
    obj = json.loads(compiled.serialize_json())
    obj["entries"] = entries
    with pytest.raises(xgram.UsageError):
        xgram.CompiledGrammar.deserialize_json(json.dumps(obj), compiled.tokenizer_info)


@pytest.mark.parametrize("metadata", ["{", "[]", "{}", '{"vocab_type": 7}'])
def test_tokenizer_metadata_errors_are_usage_errors(metadata: str) -> None:
    # fuzz_deserialize: from_vocab_and_metadata let JSON, Key, Type and Value errors out.
    with pytest.raises(xgram.UsageError):
        xgram.TokenizerInfo.from_vocab_and_metadata(VOCAB, metadata)


def test_round_trip_with_an_empty_mask_cache(compiler) -> None:
    # fuzz_deserialize (UBSan): importing an empty mask-cache blob passed a null
    # pointer to memcpy (undefined behaviour, reported only by the instrumented
    # build). A grammar serialised before any mask was computed has that blob.
    compiled = compiler.compile_grammar('root ::= ("a" | "b")+')
    obj = json.loads(compiled.serialize_json())
    assert base64.b64decode(obj["entries"]) == b""
    restored = xgram.CompiledGrammar.deserialize_json(json.dumps(obj), compiled.tokenizer_info)
    before, after = bitmask_for(compiled), bitmask_for(restored)
    xgram.GrammarMatcher(compiled).fill_next_token_bitmask(before)
    xgram.GrammarMatcher(restored).fill_next_token_bitmask(after)
    assert np.array_equal(before, after)


@pytest.mark.parametrize("schema", [{"not": {"$ref": 5}}, {"not": {"oneOf": [{"$ref": {}}]}}])
def test_non_string_ref_inside_not_is_a_schema_error(schema) -> None:
    # fuzz_json_schema: the negation resolved $ref without the string check the
    # normaliser makes elsewhere, and a dict or number escaped as TypeError.
    with pytest.raises(xgram.SchemaError, match="must be a string"):
        xgram.Grammar.from_json_schema(schema)


def nested_constant(depth: int) -> dict:
    node: object = 0
    for _ in range(depth):
        node = {"a": node, "b": 1, "c": 2, "d": 3}
    return node  # type: ignore[return-value]


def test_nested_small_constant_objects_do_not_explode() -> None:
    # fuzz_json_schema (smoke run, normal build): a 1 KB enum of nested objects made a
    # 477 MB grammar and 7 GB of memory before CompileBudgetError: each of the 24 key
    # orders of a small constant object repeated its members' spellings, 24-fold per
    # level. Depth 3 (105 bytes) printed 2.7 million characters.
    grammar = xgram.Grammar.from_json_schema({"const": nested_constant(3)})
    assert len(str(grammar)) < 100_000


def key_orders(value: Any) -> Iterator[Any]:
    """``value`` with its objects' keys in every order the converter permutes (up to 4 keys)."""
    if isinstance(value, dict):
        pairs = list(value.items())
        for order in itertools.permutations(pairs) if len(pairs) <= 4 else [pairs]:
            names = [name for name, _ in order]
            for members in itertools.product(*(list(key_orders(v)) for _, v in order)):
                yield dict(zip(names, members))
    elif isinstance(value, list):
        for items in itertools.product(*(list(key_orders(v)) for v in value)):
            yield list(items)
    else:
        yield value


CONSTANTS = [
    nested_constant(2),
    {
        "a": {"x": 1, "y": [1, {"p": 'q/"', "r": None}]},
        "b": "a string longer than forty characters",
    },
    [{"k": {"a": 1, "b": 2}, "l": True}, {"m": {}}],
    {"a": {"b": {"c": {"d": 1, "e": 2}, "f": 3}, "g": 4}, "h": 5, "i": 6, "j": 7, "k": 8},
]


@pytest.mark.parametrize("constant", CONSTANTS)
@pytest.mark.parametrize("layout", [{}, {"any_whitespace": False, "indent": 2}])
def test_constant_objects_keep_every_key_order(constant: Any, layout: dict) -> None:
    # Sharing the members' spellings must leave the language as it was: every key
    # order of every small object, each member's value exactly the constant's.
    grammar = xgram.Grammar.from_json_schema({"enum": [constant, 7]}, **layout)
    indent = layout.get("indent")
    for order in key_orders(constant):
        assert grammar.accepts(json.dumps(order, indent=indent))
    text = json.dumps(constant, indent=indent)
    for changed in ("9", "1.5", '"1"'):  # the first "1" is a member's value in each
        assert not grammar.accepts(text.replace("1", changed, 1))
    assert not grammar.accepts(json.dumps([constant], indent=indent))
    if isinstance(constant, dict):
        first = next(iter(constant))
        fewer = {k: v for k, v in constant.items() if k != first}
        assert not grammar.accepts(json.dumps(fewer, indent=indent))
        assert not grammar.accepts(json.dumps({**constant, "zz": 0}, indent=indent))


def test_deeply_nested_constant_stays_small_and_compiles_fast(compiler) -> None:
    # The text grows by one level's spelling per level (it multiplied by 24).
    deep = nested_constant(6)
    started = time.perf_counter()
    compiled = compiler.compile_json_schema({"const": deep})
    elapsed = time.perf_counter() - started
    assert len(str(xgram.Grammar.from_json_schema({"const": deep}))) < 60_000
    assert elapsed < 10.0, f"compiling a depth-6 constant took {elapsed:.1f} s"
    # Every level in another key order: "a" (the nested object) last.
    node: Any = 0
    for _ in range(6):
        node = {"b": 1, "c": 2, "d": 3, "a": node}
    for value in (deep, node):
        matcher = xgram.GrammarMatcher(compiled, terminate_without_stop_token=True)
        assert matcher.accept_string(json.dumps(value))
        assert matcher.is_terminated()


@pytest.mark.parametrize(
    "inner",
    [{"type": 5}, {"properties": "x"}, {"allOf": 1}, {"maxLength": "x"}, {"required": "a"}],
)
def test_malformed_keyword_inside_not_is_a_schema_error(inner) -> None:
    # fuzz_json_schema: {"not": {"type": "ob\u0000ject", "properties": "string", ...}},
    # minimised. The same keyword outside 'not' is a SchemaError.
    keyword = next(iter(inner))
    with pytest.raises(xgram.SchemaError, match=keyword):
        xgram.Grammar.from_json_schema(inner)
    # The same check: the same keyword, at the negated schema's pointer.
    with pytest.raises(xgram.SchemaError, match=f"'{keyword}' at /not:"):
        xgram.Grammar.from_json_schema({"not": inner})
    with pytest.raises(xgram.SchemaError, match=f"'{keyword}' at /not/anyOf/1:"):
        xgram.Grammar.from_json_schema({"not": {"anyOf": [{"type": "string"}, inner]}})


@pytest.mark.parametrize("keyword", ["minItems", "maxItems"])
def test_huge_item_count_is_a_schema_error(keyword: str) -> None:
    # fuzz_json_schema: "minItems": 1.7976931348623157e+308, minimised.
    with pytest.raises(xgram.SchemaError, match=keyword):
        xgram.Grammar.from_json_schema({"type": "array", keyword: 2**31})


@pytest.mark.parametrize("keyword", ["minContains", "maxContains"])
def test_huge_contains_count_is_a_schema_error(keyword: str) -> None:
    # The same gap in `contains`: minContains was written as a repetition bound.
    schema = {"type": "array", "contains": {"type": "string"}, keyword: 2**31}
    with pytest.raises(xgram.SchemaError, match=keyword):
        xgram.Grammar.from_json_schema(schema)


@pytest.mark.parametrize("keyword", ["maxItems", "maxContains"])
def test_huge_upper_count_is_dropped_when_lenient(keyword: str) -> None:
    schema = {"type": "array", "contains": {"type": "integer"}, keyword: 2**31}
    with pytest.warns(xgram.SchemaRelaxedWarning, match=keyword):
        grammar = xgram.Grammar.from_json_schema(schema, lenient=True)
    assert grammar.accepts("[1, 2, 3]")
    assert not grammar.accepts('["a"]')


@pytest.mark.parametrize("style", ["qwen_xml", "minimax_m3_xml"])
@pytest.mark.parametrize(
    ("kind", "keyword"),
    [
        ("array", "minItems"),
        ("array", "maxItems"),
        ("string", "minLength"),
        ("string", "maxLength"),
    ],
)
def test_huge_count_in_a_tool_call_style_is_a_schema_error(
    style: str, kind: str, keyword: str
) -> None:
    # The XML tool-call styles write the same counted repetitions.
    from xgram.json_schema.xml_styles import xml_style_grammar

    prop = {"type": kind, keyword: 2**31}
    if kind == "array":
        prop["items"] = {"type": "integer"}
    schema = {"type": "object", "properties": {"a": prop}, "required": ["a"]}
    with pytest.raises(xgram.SchemaError, match=f"'{keyword}' at /properties/a:"):
        xml_style_grammar(schema, style)


NULLABLE_LOOKAHEAD_RULES = 'root ::= "{" ("x" | r2) r1\nr1 ::= r2 (= "")\nr2 ::= "" (= "")'


def test_nullable_rules_with_empty_lookaheads_keep_the_parse() -> None:
    # fuzz_ebnf (smoke run after the fixes above), minimised from
    # `root ::= ((("-1{" root) ([^"\\] | r2)) (r1))?` with
    # `r1 ::= ((r2){1,3})+ (= "")`, `r2 ::= "" (= "")`: after "{" the mask refused
    # "x", which accept_token took. The matcher released a node twice at the end
    # of a step (r2's node, shared by two callers, released r1's, which the
    # release loop then met again with no references left), so its id entered
    # the free list twice and two later nodes shared it. The (= "") lookaheads
    # only keep r1 and r2 from being inlined.
    grammar = xgram.Grammar.from_ebnf(NULLABLE_LOOKAHEAD_RULES)
    assert xgram.Grammar.from_ebnf(NULLABLE_LOOKAHEAD_RULES.replace(' (= "")', "")).accepts("{x")
    assert grammar.accepts("{x")
    info = xgram.TokenizerInfo([b"{", b"x", b"</s>"], stop_token_ids=[2])
    matcher = xgram.GrammarMatcher(xgram.GrammarCompiler(info).compile_grammar(grammar))
    assert matcher.accept_token(0)
    bitmask = np.zeros((1, 1), np.int32)
    matcher.fill_next_token_bitmask(bitmask)
    assert allowed(bitmask, 1) == matcher.accept_token(1)


def test_a_bitset_entry_without_its_words_is_refused(compiler) -> None:
    # fuzz_deserialize (smoke run): a damaged mask-cache blob whose entry says
    # "bitset" but carries no words deserialised, and the next fill read past the
    # empty bitset (SIGSEGV). Entry layout: state, storage, count, then five
    # length-prefixed lists (tokens, bitset words, uncertain, counted, needed).
    compiled = compiler.compile_grammar('root ::= ("a" | "b")+')
    state = json.loads(compiled.serialize_json())
    xgram.GrammarMatcher(compiled).fill_next_token_bitmask(bitmask_for(compiled))
    entries = json.loads(compiled.serialize_json())["entries"]
    blob = np.frombuffer(base64.b64decode(entries), np.int32).tolist()
    num_tokens = blob[3]
    num_words = blob[4 + num_tokens]
    rest = blob[5 + num_tokens + num_words :]
    damaged = [blob[0], 2, blob[2], 0, 0, *rest]  # a bitset entry with an empty bitset
    state["entries"] = base64.b64encode(np.array(damaged, np.int32).tobytes()).decode("ascii")
    with pytest.raises(xgram.UsageError, match="bitset"):
        xgram.CompiledGrammar.deserialize_json(json.dumps(state), compiled.tokenizer_info)


@pytest.mark.parametrize(
    ("schema", "refs"),
    [
        ({"$id": "http://[-+]/a"}, None),
        ({"$ref": "http://[-+]/x"}, None),
        ({"$defs": {"a": {"$id": "http://[::1"}}, "$ref": "#/$defs/a"}, None),
        ({"$ref": "http://x.test/s"}, {"http://[-+]/s": {}}),
    ],
)
def test_a_uri_urllib_cannot_parse_is_a_schema_error(schema, refs) -> None:
    # fuzz_json_schema (ASan campaign after the fixes): an `$id` with a bracketed
    # host that is no IP address made urllib raise ValueError out of the converter.
    with pytest.raises(xgram.SchemaError, match="not a valid URI"):
        xgram.Grammar.from_json_schema(schema, refs=refs)
