"""Regression tests for what the fuzz targets in fuzz/ found (see fuzz/README.md).

Each test is the minimised input of one finding. Those still open in the C++ core
are strict expected failures: fixing the core makes them pass, and then the
marker must go. The UBSan finding shows only under the instrumented build
(``bash scripts/sanitize.sh address tests/test_fuzz_regressions.py``); in the
normal build its test checks that the path still works.
"""

from __future__ import annotations

import base64
import json

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


@pytest.mark.xfail(
    strict=True,
    reason="open (C++ masks): a lookahead that ends the root can never be satisfied, "
    "yet the mask allows the tokens that complete the root; accept_token refuses them",
)
def test_mask_agrees_with_accept_token_before_a_root_lookahead(compiler) -> None:
    # fuzz_ebnf: `root ::= [\n\-] [^a] (= ...)`, minimised. Nothing can follow the
    # root, so its lookahead fails at the end of the input and the language is
    # empty; the mask must not allow a token that accept_token then refuses.
    compiled = compiler.compile_grammar('root ::= "a" (= "b")')
    matcher = xgram.GrammarMatcher(compiled)
    bitmask = bitmask_for(compiled)
    matcher.fill_next_token_bitmask(bitmask)
    assert allowed(bitmask, 0) == matcher.accept_token(0)


@pytest.mark.xfail(
    strict=True,
    reason="open (C++ matcher): a stop token from override_stop_tokens that also spells "
    "text is allowed by the mask as text, but accept_token takes it as a stop and refuses it",
)
@pytest.mark.parametrize("terminate_without_stop_token", [False, True])
def test_mask_agrees_with_accept_token_for_a_stop_token_that_spells_text(
    terminate_without_stop_token: bool,
) -> None:
    # fuzz_matcher: the builtin JSON grammar with override_stop_tokens=[id of b"u"],
    # after b"n". XGrammar 0.2.9 allows and accepts the token (then terminates).
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


@pytest.mark.xfail(
    strict=True,
    reason="open (JSON Schema converter, spelling.value_literal): a constant object of up "
    "to 4 keys is spelled in all 24 key orders, each inlining its members' spellings, so "
    "the grammar grows 24-fold per nesting level (136 bytes of schema exhaust 3 GB)",
)
def test_nested_small_constant_objects_do_not_explode() -> None:
    # fuzz_json_schema (smoke run, normal build): a 1 KB enum of nested objects made a
    # 477 MB grammar and 7 GB of memory before CompileBudgetError. Depth 3 (105 bytes)
    # already prints 2.7 million characters; depth 4 runs out of memory.
    grammar = xgram.Grammar.from_json_schema({"const": nested_constant(3)})
    assert len(str(grammar)) < 100_000


@pytest.mark.xfail(
    strict=True,
    reason="open (JSON Schema converter, negation.py): keyword values under 'not' are "
    "used without the type checks made elsewhere",
)
@pytest.mark.parametrize(
    "inner", [{"type": 5}, {"properties": "x"}, {"allOf": 1}, {"maxLength": "x"}]
)
def test_malformed_keyword_inside_not_is_a_schema_error(inner) -> None:
    # fuzz_json_schema: {"not": {"type": "ob\u0000ject", "properties": "string", ...}},
    # minimised. The same keyword outside 'not' is a SchemaError.
    with pytest.raises(xgram.SchemaError):
        xgram.Grammar.from_json_schema(inner)
    with pytest.raises(xgram.SchemaError):
        xgram.Grammar.from_json_schema({"not": inner})


@pytest.mark.xfail(
    strict=True,
    reason="open (JSON Schema converter, arrays): minItems/maxItems past the EBNF "
    "repetition bound (2**30) reach the EBNF parser, whose GrammarError escapes; "
    "minLength and minProperties are checked against MAX_COUNT_BOUND instead",
)
@pytest.mark.parametrize("keyword", ["minItems", "maxItems"])
def test_huge_item_count_is_a_schema_error(keyword: str) -> None:
    # fuzz_json_schema: "minItems": 1.7976931348623157e+308, minimised.
    with pytest.raises(xgram.SchemaError, match=keyword):
        xgram.Grammar.from_json_schema({"type": "array", keyword: 2**31})
