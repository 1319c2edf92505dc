"""The API boundary, part two: grammar text, tokenizers, the compiler, schemas, the drop-in.

Each misuse is a typed exception naming what and where (the rule is in
xgram/errors.py; part one, tests/test_api_boundary.py, covers the matcher and
bitmasks). Schema faults are SchemaErrors carrying the keyword and JSON pointer.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, List

import numpy as np
import pytest
import test_api_boundary as part_one

import xgram
from xgram.errors import ArgumentTypeError, UsageError

# The vocabulary and the fixtures are part one's.
VOCAB, STOP, SIZE = part_one.VOCAB, part_one.STOP, part_one.SIZE
info, compiled = part_one.info, part_one.compiled


def allowed(bitmask: np.ndarray) -> List[int]:
    return [t for t in range(SIZE) if bitmask[0, t // 32] >> (t % 32) & 1]


# ------------------------------------------------------------------ grammar text


def test_grammar_constructors_refuse() -> None:
    g = xgram.Grammar.from_ebnf('root ::= "a"')
    cases = [
        (
            lambda: xgram.Grammar.from_ebnf(b'root ::= "a"'),
            ArgumentTypeError,
            r"ebnf_string must be str, got bytes",
        ),
        (
            lambda: xgram.Grammar.from_ebnf('root ::= "a"', root_rule_name=None),
            ArgumentTypeError,
            r"root_rule_name must be str, got NoneType",
        ),
        (
            lambda: xgram.Grammar.from_ebnf('root ::= "a"', root_rule_name=b"root"),
            ArgumentTypeError,
            r"root_rule_name must be str, got bytes",
        ),
        (
            lambda: xgram.Grammar.from_ebnf('root ::= "a"', root_rule_name="\ud800"),
            UsageError,
            r"root_rule_name holds a lone surrogate '\\ud800' at index 0",
        ),
        (
            lambda: xgram.Grammar.from_regex(b"a"),
            ArgumentTypeError,
            r"pattern must be str, got bytes",
        ),
        (
            lambda: xgram.Grammar.from_lark(b'start: "a"'),
            ArgumentTypeError,
            r"lark_string must be str, got bytes",
        ),
        (
            lambda: xgram.Grammar.union(g, "x"),
            ArgumentTypeError,
            r"Grammar\.union: argument 1 must be an xgram\.Grammar, got str",
        ),
        (
            lambda: xgram.Grammar.concat(None, g),
            ArgumentTypeError,
            r"Grammar\.concat: argument 0 .*got NoneType",
        ),
        (
            lambda: g.accepts("\ud800"),
            UsageError,
            r"text holds a lone surrogate '\\ud800' at index 0",
        ),
        (lambda: g.accepts_prefix("a\ud800"), UsageError, r"lone surrogate '\\ud800' at index 1"),
        (lambda: g.check("\udc00"), UsageError, r"lone surrogate '\\udc00' at index 0"),
        (lambda: g.accepts(5), ArgumentTypeError, r"text must be str or bytes, got int"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    assert g.accepts("a") and g.accepts(memoryview(b"a"))


@pytest.mark.parametrize(
    "build, line, column",
    [
        (lambda: xgram.Grammar.from_ebnf('root ::= "\ud800"'), 1, 11),
        (lambda: xgram.Grammar.from_ebnf('root ::= "a"\nx ::= "\udfff"'), 2, 8),
        (lambda: xgram.Grammar.from_regex("ab\ud800"), 1, 3),
    ],
)
def test_lone_surrogates_in_grammar_text_are_grammar_errors(build, line, column) -> None:
    with pytest.raises(xgram.GrammarError, match="lone surrogate") as info:
        build()
    assert (info.value.line, info.value.column) == (line, column)


def test_lone_surrogate_in_lark_text() -> None:
    with pytest.raises(xgram.GrammarError, match=r"line 1, column 8: .*lone surrogate"):
        xgram.Grammar.from_lark('start: "\ud800"')


# ------------------------------------------------------------------ tokenizer info


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (
            (None,),
            {},
            ArgumentTypeError,
            r"encoded_vocab must be a sequence of str or bytes, got NoneType",
        ),
        (("abc",), {}, ArgumentTypeError, r"encoded_vocab must be a sequence .*got str"),
        (([b"a", 2],), {}, ArgumentTypeError, r"encoded_vocab\[1\] must be str or bytes, got int"),
        (
            (["a", "b\ud800"],),
            {},
            UsageError,
            r"encoded_vocab\[1\] holds a lone surrogate '\\ud800' at index 1",
        ),
        (
            (["a", "b"],),
            {"stop_token_ids": [1.9]},
            ArgumentTypeError,
            r"stop_token_ids\[0\] is float 1\.9",
        ),
        (
            (["a"],),
            {"stop_token_ids": [2**64]},
            UsageError,
            r"stop_token_ids\[0\] = 18446744073709551616 is out of range \[0, 1\)",
        ),
        (
            (["a"],),
            {"stop_token_ids": 0},
            ArgumentTypeError,
            r"stop_token_ids must be a sequence of integers",
        ),
        (
            (["a"],),
            {"special_token_ids": [5]},
            UsageError,
            r"special_token_ids\[0\] = 5 is out of range",
        ),
        (
            (["a", "b"],),
            {"vocab_size": -1},
            UsageError,
            r"vocab_size -1 is smaller than the tokenizer's vocabulary \(2 tokens\)",
        ),
        (
            (["a"],),
            {"vocab_size": 2**40},
            UsageError,
            r"vocab_size 1099511627776 is larger than 2\*\*31 - 1",
        ),
        ((["a"],), {"vocab_size": 1.5}, ArgumentTypeError, r"vocab_size is float 1\.5"),
        (
            (["a"], 7),
            {},
            UsageError,
            r"vocab_type must be one of RAW \(0\), BYTE_FALLBACK \(1\), BYTE_LEVEL \(2\), got 7",
        ),
        ((["a"], "x"), {}, ArgumentTypeError, r"vocab_type is str 'x'"),
    ],
)
def test_tokenizer_info_refuses(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        xgram.TokenizerInfo(*args, **kwargs)


def test_tokenizer_metadata_and_sources_refused() -> None:
    for metadata, match in [
        ("nope", r"metadata is not JSON text"),
        ("{}", r"metadata lacks the field 'vocab_type'"),
        ("[1]", r"metadata must be a JSON object, got list"),
        (None, r"metadata is not JSON text"),
    ]:
        with pytest.raises(UsageError, match=match):
            xgram.TokenizerInfo.from_vocab_and_metadata(["a"], metadata)
    with pytest.raises(ArgumentTypeError, match="from_huggingface needs a transformers"):
        xgram.TokenizerInfo.from_huggingface(None)
    assert xgram.TokenizerInfo(["a", "b"], xgram.VocabType.RAW, stop_token_ids=np.array([1]))


# ------------------------------------------------------------------ compiler


def test_compiler_refuses(info, compiled) -> None:
    compiler = xgram.GrammarCompiler(info)
    data = compiled.serialize_json()
    cases = [
        (
            lambda: xgram.GrammarCompiler(None),
            ArgumentTypeError,
            r"tokenizer_info must be an xgram\.TokenizerInfo, got NoneType",
        ),
        (
            lambda: xgram.GrammarCompiler(info, max_threads="x"),
            ArgumentTypeError,
            r"max_threads is str 'x'",
        ),
        (
            lambda: xgram.GrammarCompiler(info, cache_limit_bytes=-2),
            UsageError,
            r"cache_limit_bytes must be -1 \(unbounded\) or >= 0",
        ),
        (
            lambda: compiler.compile_grammar(None),
            ArgumentTypeError,
            r"grammar must be an xgram\.Grammar or EBNF str, got NoneType",
        ),
        (lambda: compiler.compile_grammar(b'root ::= "a"'), ArgumentTypeError, r"got bytes"),
        (
            lambda: compiler.compile_grammar('root ::= "a"', root_rule_name=None),
            ArgumentTypeError,
            r"root_rule_name must be str",
        ),
        (
            lambda: compiler.compile_lark(["start: 'a'"]),
            ArgumentTypeError,
            r"lark_string must be str, got list",
        ),
        (
            lambda: compiler.compile_regex(b"a"),
            ArgumentTypeError,
            r"pattern must be str, got bytes",
        ),
        (lambda: compiler.compile_regex("\ud800"), xgram.GrammarError, r"lone surrogate"),
        (lambda: compiled.precompute("x"), ArgumentTypeError, r"num_threads is str 'x'"),
        (
            lambda: xgram.CompiledGrammar.deserialize_json(None, info),
            ArgumentTypeError,
            r"data must be str, got NoneType",
        ),
        (
            lambda: xgram.CompiledGrammar.deserialize_json(data, None),
            ArgumentTypeError,
            r"tokenizer_info must be an xgram\.TokenizerInfo",
        ),
        (
            lambda: xgram.CompiledGrammar.deserialize_json(
                data.replace('"root ::=', '"root ::= ('), info
            ),
            UsageError,
            r"serialized compiled grammar is corrupt",
        ),
        (
            lambda: xgram.CompiledGrammar.deserialize_json(_with(data, grammar=5), info),
            UsageError,
            r"corrupt",
        ),
        (
            lambda: xgram.CompiledGrammar.deserialize_json(_with(data, entries="!!"), info),
            UsageError,
            r"corrupt: Only base64 data",
        ),
        (
            lambda: xgram.CompiledGrammar.deserialize_json("[" * 100_000, info),
            UsageError,
            r"not valid JSON",
        ),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    assert xgram.GrammarMatcher(compiler.compile_grammar('root ::= "a"')).accept_string("a")


def _with(data: str, **fields: Any) -> str:
    obj = json.loads(data)
    obj.update(fields)
    return json.dumps(obj)


# ------------------------------------------------------------------ JSON schemas


def _nested(depth: int, wrap: Callable[[Any], Any], inner: Any) -> Any:
    for _ in range(depth):
        inner = wrap(inner)
    return inner


# Deeper than json.loads reads on any Python: 3.11 stops near 1,000 levels (the recursion
# limit), 3.14 near 100,000 (the C stack).
DEEP_TEXT = '{"type": "array", "items": ' * 200_000 + '{"type": "integer"}' + "}" * 200_000
REF_CHAIN = {
    "$ref": "#/$defs/d0",
    "$defs": {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(2000)},
}

SCHEMA_CASES = [
    ('{"type": "number", "maximum": NaN}', "maximum", "", r"NaN is not a JSON number"),
    ('{"const": Infinity}', "const", "", r"Infinity is not a JSON number"),
    ('{"const": -Infinity}', "const", "", r"-Infinity is not a JSON number"),
    ('{"enum": [1, NaN]}', "enum", "", r"the value at /enum/1 is NaN, not a JSON number"),
    (
        {"properties": {"a": {"minLength": float("nan")}}},
        "minLength",
        "/properties/a",
        r"NaN is not",
    ),
    ({"type": "array", "maxItems": float("inf")}, "maxItems", "", r"Infinity is not a JSON number"),
    ({"const": {"x": [1, float("-inf")]}}, "const", "", r"the value at /const/x/1 is -Infinity"),
    (
        {"type": "string", "pattern": "a\ud800"},
        "pattern",
        "",
        r"the string at /pattern holds a lone surrogate '\\ud800' at index 1",
    ),
    ('{"const": "\\ud800"}', "const", "", r"the string at /const holds a lone surrogate"),
    (
        {"enum": ["a", "\udfff"]},
        "enum",
        "",
        r"the string at /enum/1 holds a lone surrogate '\\udfff'",
    ),
    (
        {"properties": {"x\ud800": {}}},
        "properties",
        "",
        r"the key 'x\\ud800' of /properties holds a lone surrogate",
    ),
    (
        {"patternProperties": {"\ud800": {}}},
        "patternProperties",
        "",
        r"the key '\\ud800' of /patternProperties",
    ),
    ({"required": ["\ud800"]}, "required", "", r"the string at /required/0 holds a lone surrogate"),
    (
        DEEP_TEXT,
        "",
        "",
        r"the schema text nests 200001 levels of arrays and objects \(the deepest at line 1, column 5400001\)",
    ),
    (
        _nested(10_000, lambda s: {"type": "array", "items": s}, {}),
        "",
        "/items" * 201,
        r"nested too deeply \(more than 200 levels\)",
    ),
    (
        {"const": _nested(10_000, lambda v: [v], 1)},
        "const",
        "",
        r"nests deeper than 64 levels of arrays and objects \(at /const/0/0/0",
    ),
    (_nested(40, lambda s: {"enum": [s]}, 1), "enum", "", r"nests deeper than 64 levels"),
    (
        REF_CHAIN,
        "",
        "",
        r"nests too deeply to convert: its sub-schemas and references chain deeper",
    ),
    (
        '{"type": "integer",\n "maximum": ' + "9" * 10_000 + "}",
        "",
        "",
        r"a number of 10000 digits at line 2, column 13",
    ),
    (
        {"type": "integer", "maximum": 10**10_000 - 1},
        "maximum",
        "",
        r"the integer has about 10001 digits, more than the \d+ that Python converts",
    ),
    ({"enum": [1, -(10**10_000)]}, "enum", "", r"the integer at /enum/1 has about"),
    (
        {"anyOf": [{}, {"type": "object", "patternProperties": {"(?<=a)b": {}}}]},
        "patternProperties",
        "/anyOf/1",
        r"key '\(\?<=a\)b': .*lookbehind",
    ),
    (b'{"const": "\xff"}', "", "", r"the schema bytes are not UTF-8 text"),
]


@pytest.mark.parametrize(
    "schema, keyword, pointer, match",
    SCHEMA_CASES,
    ids=[f"{n}-{case[1] or 'document'}" for n, case in enumerate(SCHEMA_CASES)],
)
def test_schema_faults_are_schema_errors(schema, keyword, pointer, match) -> None:
    with pytest.raises(xgram.SchemaError, match=match) as info:
        xgram.Grammar.from_json_schema(schema)
    assert (info.value.keyword, info.value.pointer) == (keyword, pointer)


def test_schema_faults_through_the_compiler_cache(info) -> None:
    compiler = xgram.GrammarCompiler(info)  # the cache key serialises the schema first
    for schema in [
        _nested(10_000, lambda s: {"type": "array", "items": s}, {}),
        {"maximum": 10**10_000},
        {"const": float("nan")},
    ]:
        with pytest.raises(xgram.SchemaError):
            compiler.compile_json_schema(schema)
    assert xgram.GrammarMatcher(compiler.compile_json_schema({"const": 1})).accept_string("1")


def test_schema_annotations_and_the_limits_themselves_are_fine() -> None:
    g = xgram.Grammar.from_json_schema(
        {
            "type": "number",
            "default": float("nan"),
            "examples": [float("inf")],
            "description": "\ud800",
        }
    )
    assert g.accepts("1.5") and not g.accepts("NaN")
    deep = _nested(64, lambda v: [v], 1)
    assert xgram.Grammar.from_json_schema({"const": deep}).accepts(json.dumps(deep))
    g = xgram.Grammar.from_json_schema(
        {"properties": {"default": {"const": 2}}, "required": ["default"]}
    )
    assert g.accepts('{"default": 2}')


def test_pattern_property_key_that_matches_nothing_is_exact() -> None:
    # A lookahead that contradicts what follows: the key matches no name at all.
    schema = {
        "type": "object",
        "properties": {"zz": {}},
        "patternProperties": {"a(?=b)c": {"type": "string"}},
        "additionalProperties": {"type": "integer"},
    }
    g = xgram.Grammar.from_json_schema(schema)
    assert g.accepts("{}") and g.accepts('{"zz": 1}') and g.accepts('{"abc": 1}')
    assert not g.accepts('{"abc": "s"}')  # additionalProperties, not the pattern's schema


# ------------------------------------------------------------------ the XGrammar drop-in


@pytest.fixture(scope="module")
def xgr():
    pytest.importorskip("torch")
    pytest.importorskip("pydantic")
    from xgram.compat import _names_table

    return _names_table.load_drop_in()


def test_drop_in_mirrors_xgrammar(xgr, caplog) -> None:
    import torch

    info = xgr.TokenizerInfo(VOCAB, stop_token_ids=[STOP])
    compiled = xgr.GrammarCompiler(info).compile_grammar('root ::= "a"+ "b"')
    m = xgr.GrammarMatcher(compiled)
    for bad in (1.9, "0", None):  # XGrammar: TypeError from its binding
        with pytest.raises(TypeError, match="token_id is"):
            m.accept_token(bad)
    with caplog.at_level(logging.WARNING, logger="xgrammar"):
        assert m.accept_token(-1) is False and m.accept_token(2**63) is False  # as XGrammar
    assert "out of range" in caplog.text
    with pytest.raises(ValueError, match="lone surrogate"):  # XGrammar: UnicodeEncodeError
        m.accept_string("\ud800")
    with pytest.raises(TypeError):
        m.accept_string(5)
    rows = torch.full((2, 1), 7, dtype=torch.int32)
    assert m.traverse_draft_tree(  # an unknown draft token is a node not allowed, as XGrammar
        torch.tensor([1, -1]), torch.tensor([-1, -1]), torch.tensor([0, 99]), rows
    )
    assert rows[1, 0] == 0 and allowed(rows.numpy()[:1]) == [0, 11]
    assert m.accept_string("ab") and m.accept_token(STOP) and m.accept_string("a") is False
    with pytest.raises(RuntimeError, match="terminated"):
        m.fill_next_token_bitmask(xgr.allocate_token_bitmask(1, SIZE))
    with pytest.raises(RuntimeError, match=r"override_stop_tokens\[0\] = -1"):
        xgr.GrammarMatcher(compiled, override_stop_tokens=[-1])
    with pytest.raises(TypeError):
        xgr.GrammarMatcher(compiled, override_stop_tokens=[1.9])
    with pytest.raises(RuntimeError, match="batch_size"):
        xgr.get_bitmask_shape(-1, SIZE)
