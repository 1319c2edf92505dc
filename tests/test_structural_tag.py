"""Structural tags (XGrammar 0.2.9's JSON form) lowered into xgram grammars."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import xgram
from xgram.structural_tag import StructuralTagError

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "tokenizers")

OBJ = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def tag(begin, content, end):
    return {"type": "tag", "begin": begin, "content": content, "end": end}


def const(value):
    return {"type": "const_string", "value": value}


def st(fmt):
    return {"type": "structural_tag", "format": fmt}


TAGS = [
    tag("<f1>", {"type": "json_schema", "json_schema": OBJ}, "</f>"),
    tag("<g>", const("Y"), "</g>"),
]

# (format, accepted strings, rejected strings); each case is also run through the real
# XGrammar where it is installed, and both must agree.
CASES = [
    (const('a"b\n'), ['a"b\n'], ["a", 'a"b']),
    ({"type": "json_schema", "json_schema": OBJ}, ['{"a": 1}', '{"a":-2}'], ['{"a": "x"}', "{}"]),
    ({"type": "regex", "pattern": "[a-c]{2,3}"}, ["ab", "abc"], ["a", "abcd"]),
    ({"type": "grammar", "grammar": 'root ::= "x" r\nr ::= "y"+'}, ["xy", "xyy"], ["x", "y"]),
    ({"type": "any_text"}, ["", "any text \u00e9"], []),
    ({"type": "any_text", "excludes": ["<x>"]}, ["a<x", "x>"], ["a<x>b", "<x>"]),
    (
        {"type": "sequence", "elements": [const("a"), {"type": "optional", "content": const("b")}]},
        ["a", "ab"],
        ["b", "abb"],
    ),
    (
        {"type": "or", "elements": [{"type": "plus", "content": const("b")}, const("c")]},
        ["b", "bbb", "c"],
        ["", "bc"],
    ),
    ({"type": "star", "content": const("ab")}, ["", "abab"], ["aba"]),
    ({"type": "repeat", "min": 1, "max": 3, "content": const("z")}, ["z", "zzz"], ["", "zzzz"]),
    ({"type": "repeat", "min": 2, "max": -1, "content": const("z")}, ["zz", "zzzzz"], ["z"]),
    (tag("<a>", {"type": "any_text"}, "</a>"), ["<a>x</a>", "<a></a>"], ["<a>x</a>y</a>"]),
    (tag("<a>", {"type": "any_text"}, ["</a>", "</b>"]), ["<a>x</b>"], ["<a>x</a>y</b>"]),
    (
        {"type": "triggered_tags", "triggers": ["<f", "<g"], "tags": TAGS},
        ["", "hello", 'x <f1>{"a": 1}</f> y <g>Y</g>', "<g>Y</g><g>Y</g>", "a <"],
        ["x <f2>", "<g>N</g>", "x <fY"],
    ),
    (
        {"type": "triggered_tags", "triggers": ["<f", "<g"], "tags": TAGS, "at_least_one": True},
        ["<g>Y</g>", "<g>Y</g> text <g>Y</g>"],
        ["", "text <g>Y</g>"],
    ),
    (
        {
            "type": "triggered_tags",
            "triggers": ["<f", "<g"],
            "tags": TAGS,
            "stop_after_first": True,
        },
        ["", "text", "text <g>Y</g>"],
        ["<g>Y</g> more", "<g>Y</g><g>Y</g>"],
    ),
    (
        {
            "type": "triggered_tags",
            "triggers": ["<f", "<g"],
            "tags": TAGS,
            "at_least_one": True,
            "stop_after_first": True,
        },
        ["<g>Y</g>", '<f1>{"a":1}</f>'],
        ["", "x<g>Y</g>", "<g>Y</g>x"],
    ),
    (
        {"type": "triggered_tags", "triggers": ["<g"], "tags": TAGS[1:], "excludes": ["STOP"]},
        ["a <g>Y</g> b"],
        ["a STOP", "STOP<g>Y</g>"],
    ),
    (
        tag("<a>", {"type": "triggered_tags", "triggers": ["<g"], "tags": TAGS[1:]}, "</a>"),
        ["<a>x <g>Y</g> y</a>", "<a></a>"],
        ["<a>x</a>y</a>", "<a>x"],
    ),
    (
        {"type": "tags_with_separator", "tags": TAGS, "separator": ","},
        ["", "<g>Y</g>", "<g>Y</g>,<g>Y</g>"],
        ["<g>Y</g><g>Y</g>", ","],
    ),
    (
        {"type": "tags_with_separator", "tags": TAGS, "separator": ",", "at_least_one": True},
        ["<g>Y</g>,<g>Y</g>"],
        [""],
    ),
    (
        {"type": "tags_with_separator", "tags": TAGS, "separator": ",", "stop_after_first": True},
        ["", "<g>Y</g>"],
        ["<g>Y</g>,<g>Y</g>"],
    ),
    (
        {"type": "dispatch", "rules": [["<f>", const("X")]], "loop": True, "excludes": ["</s>"]},
        ["", "a<f>X b<f>X", "<f"],
        ["a<f>Y", "a</s>"],
    ),
    (
        {"type": "dispatch", "rules": [["<f>", const("X")]], "loop": False},
        ["a", "a<f>X"],
        ["a<f>Xb", "a<f>X<f>X"],
    ),
]


@pytest.mark.parametrize("fmt, good, bad", CASES, ids=[c[0]["type"] for c in CASES])
def test_formats_accept_exactly_their_language(fmt, good, bad):
    grammar = xgram.Grammar.from_structural_tag(st(fmt))
    for text in good:
        assert grammar.accepts(text), text
    for text in bad:
        assert not grammar.accepts(text), text


@pytest.mark.parametrize("fmt, good, bad", CASES, ids=[c[0]["type"] for c in CASES])
def test_formats_agree_with_xgrammar(fmt, good, bad):
    xgr = pytest.importorskip("xgrammar")
    from xgrammar.testing import _is_grammar_accept_string

    theirs = xgr.Grammar.from_structural_tag(json.dumps(st(fmt)))
    for text in good + bad:
        expected = _is_grammar_accept_string(theirs, text)
        if fmt["type"] == "json_schema" and text == '{"a":-2}':
            continue  # both accept; listed to show compact spelling
        assert expected == (text in good), (fmt, text, expected)


def test_the_first_trigger_to_complete_dispatches():
    # "<f" completes inside "<fun": Aho-Corasick semantics dispatch there, so only tags
    # behind "<f" can follow, as in XGrammar's TagDispatch.
    fmt = {
        "type": "triggered_tags",
        "triggers": ["<f"],
        "tags": [tag("<fun>", const("X"), "</fun>")],
    }
    grammar = xgram.Grammar.from_structural_tag(st(fmt))
    assert grammar.accepts("a <fun>X</fun>")
    assert not grammar.accepts("a <fo")
    assert grammar.accepts_prefix("a <fu")


def test_legacy_tags_and_triggers():
    tags = [{"begin": "<f=a>", "schema": json.dumps(OBJ), "end": "</f>"}]
    grammar = xgram.Grammar.from_structural_tag(tags, ["<f="])
    assert grammar.accepts('say <f=a>{"a": 1}</f>')
    assert not grammar.accepts('say <f=b>{"a": 1}</f>')


def test_json_text_and_bare_format_are_accepted():
    fmt = tag("<a>", const("x"), "</a>")
    assert xgram.Grammar.from_structural_tag(json.dumps(st(fmt))).accepts("<a>x</a>")
    assert xgram.Grammar.from_structural_tag(fmt).accepts("<a>x</a>")


@pytest.mark.parametrize(
    "fmt, pointer, words",
    [
        ({"type": "nope"}, "/format", "unknown format type"),
        ({"type": "exclude_token", "exclude_tokens": [5]}, "/format", "exactly one token"),
        ({"type": "token", "token": "<x>"}, "/format", "compile with a tokenizer"),
        ({"type": "any_tokens", "max_tokens": 3}, "/format", "max_tokens"),
        ({"type": "any_text", "max_tokens": 4}, "/format", "max_tokens"),
        (
            {"type": "sequence", "elements": [const("a"), {"type": "const_string"}]},
            "/format/elements/1",
            "missing field 'value'",
        ),
        (
            {"type": "triggered_tags", "triggers": ["<f"], "tags": [tag("<g>", const(""), "x")]},
            "/format/tags/0",
            "exactly one trigger",
        ),
        ({"type": "repeat", "min": 3, "max": 1, "content": const("a")}, "/format", "below min"),
        ({"type": "regex", "pattern": "(a"}, "/format", "regex"),
        (
            {
                "type": "triggered_tags",
                "triggers": ["<"],
                "tags": [tag({"token": 1}, const(""), "")],
            },
            "/format/tags/0",
            "text begins",
        ),
    ],
)
def test_errors_name_the_format(fmt, pointer, words):
    with pytest.raises(StructuralTagError) as info:
        xgram.Grammar.from_structural_tag(st(fmt))
    assert info.value.pointer == pointer
    assert words in str(info.value)
    assert isinstance(info.value, xgram.GrammarError)


def test_refused_schema_is_a_structural_tag_error_and_lenient_relaxes_it():
    schema = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    fmt = {"type": "json_schema", "json_schema": schema}
    with pytest.raises(StructuralTagError, match="uniqueItems"):
        xgram.Grammar.from_structural_tag(st(fmt))
    with pytest.warns(xgram.SchemaRelaxedWarning):
        grammar = xgram.Grammar.from_structural_tag(st(fmt), lenient=True)
    assert grammar.accepts('["a", "b"]')


def _tokenizer(name):
    path = os.path.join(SHARED, name, "tokenizer.json")
    if not os.path.exists(path):
        pytest.skip(f"no ../shared tokenizer {name}")
    tokenizers = pytest.importorskip("tokenizers")
    return tokenizers.Tokenizer.from_file(path)


def _allowed(matcher, vocab_size):
    bitmask = np.zeros(xgram.get_bitmask_shape(1, vocab_size), np.int32)
    matcher.fill_next_token_bitmask(bitmask)
    bits = np.unpackbits(bitmask.view(np.uint8), bitorder="little")[:vocab_size]
    return bits.astype(bool)


def test_special_token_works_as_one_token_and_as_text():
    tok = _tokenizer("qwen2.5")
    info = xgram.TokenizerInfo.from_huggingface(tok, special_tokens_as_text=True)
    fmt = {
        "type": "triggered_tags",
        "triggers": ["<tool_call>"],
        "tags": [tag("<tool_call>", {"type": "json_schema", "json_schema": OBJ}, "</tool_call>")],
    }
    compiled = xgram.GrammarCompiler(info).compile_structural_tag(st(fmt))
    special = tok.token_to_id("<tool_call>")
    matcher = xgram.GrammarMatcher(compiled)
    assert _allowed(matcher, info.vocab_size)[special]
    assert matcher.accept_token(special)
    for piece in tok.encode('{"a": 7}', add_special_tokens=False).ids:
        assert matcher.accept_token(piece)
    assert matcher.accept_token(tok.token_to_id("</tool_call>"))
    spelled = xgram.GrammarMatcher(compiled)
    assert spelled.accept_string("<tool_")
    assert spelled.accept_string('call>{"a": 7}</tool_call>')
    assert spelled.is_completed()


def test_masks_follow_a_tool_call_transcript():
    tok = _tokenizer("llama3")
    info = xgram.TokenizerInfo.from_huggingface(tok, special_tokens_as_text=True)
    fmt = {
        "type": "triggered_tags",
        "triggers": ["<function="],
        "tags": [
            tag(f"<function={n}>", {"type": "json_schema", "json_schema": OBJ}, "</function>")
            for n in ("get", "put")
        ],
    }
    compiled = xgram.GrammarCompiler(info).compile_structural_tag(st(fmt))
    text = 'Sure. <function=put>{"a": 3}</function> done <function=get>{"a":1}</function>'
    matcher = xgram.GrammarMatcher(compiled)
    for token in tok.encode(text, add_special_tokens=False).ids:
        assert _allowed(matcher, info.vocab_size)[token]
        assert matcher.accept_token(token)
    assert matcher.is_completed()
    bad = xgram.GrammarMatcher(compiled)
    assert bad.accept_string("x <function=")
    allowed = _allowed(bad, info.vocab_size)
    assert allowed[tok.token_to_id("get")]
    assert not allowed[tok.token_to_id("post")]


# ---------- token-level formats: tokens named by id ----------

VOCAB = ["a", "b", "<call>", "</call>", "x", "<think>", "ab", "<", "call>"]
CALL, END_CALL, THINK = 2, 3, 5


def _small_compiler(as_text: bool):
    special = [] if as_text else [CALL, END_CALL, THINK]
    info = xgram.TokenizerInfo(VOCAB, special_token_ids=special)
    return info, xgram.GrammarCompiler(info)


def _walk(compiled, tokens):
    matcher = xgram.GrammarMatcher(compiled, terminate_without_stop_token=True)
    for token in tokens:
        if not _allowed(matcher, len(VOCAB))[token] or not matcher.accept_token(token):
            return None
    return matcher


TOKEN_TAGS = {
    "type": "token_triggered_tags",
    "trigger_tokens": ["<call>"],
    "tags": [tag({"type": "token", "token": "<call>"}, const("ab"), {"type": "token", "token": 3})],
    "exclude_tokens": ["<think>"],
}


@pytest.mark.parametrize("as_text", [False, True], ids=["special", "special-as-text"])
def test_token_triggered_tags_match_tokens_by_id(as_text):
    info, compiler = _small_compiler(as_text)
    compiled = compiler.compile_structural_tag(st(TOKEN_TAGS))
    assert _walk(compiled, [0, 4, CALL, 6, END_CALL, 1]).is_completed()
    assert _walk(compiled, [CALL, 0, 1, END_CALL]).is_completed()
    assert _walk(compiled, [THINK]) is None  # excluded from the free tokens
    assert _walk(compiled, [CALL, 4]) is None  # the tag's content is "ab"
    # The trigger spelled in text pieces is text, not the token: no tag follows it.
    spelled = _walk(compiled, [7, 8, 4])
    assert spelled is not None and spelled.is_completed()


def test_any_tokens_and_token_formats():
    info, compiler = _small_compiler(False)
    fmt = {
        "type": "sequence",
        "elements": [
            {"type": "token", "token": THINK},
            {"type": "any_tokens", "exclude_tokens": [THINK]},
        ],
    }
    compiled = compiler.compile_structural_tag(st(fmt))
    matcher = _walk(compiled, [THINK, 0, 4])
    assert matcher is not None and matcher.is_completed()
    assert _walk(compiled, [THINK, 0, THINK]) is None
    assert _walk(compiled, [0]) is None
    dispatch = {"type": "token_dispatch", "rules": [[CALL, const("x")]], "loop": False}
    compiled = compiler.compile_structural_tag(st(dispatch))
    assert _walk(compiled, [0, CALL, 4]).is_completed()
    assert _walk(compiled, [0, CALL, 4, 0]) is None


def test_token_tag_end_closes_free_tokens():
    info, compiler = _small_compiler(False)
    fmt = tag(
        {"type": "token", "token": CALL},
        {"type": "any_tokens"},
        {"type": "token", "token": END_CALL},
    )
    compiled = compiler.compile_structural_tag(st(fmt))
    assert _walk(compiled, [CALL, 0, 4, END_CALL]).is_completed()
    assert _walk(compiled, [CALL, END_CALL, END_CALL]) is None


def test_model_template_with_token_markers_follows_a_real_transcript():
    transformers = pytest.importorskip("transformers")
    path = os.path.join(SHARED, "qwen2.5")
    if not os.path.exists(path):
        pytest.skip("no ../shared tokenizer qwen2.5")
    tok = transformers.AutoTokenizer.from_pretrained(path)
    tok.add_special_tokens({"additional_special_tokens": ["<think>", "</think>"]})
    from xgram.tool_calling import get_model_structural_tag

    tools = [{"type": "function", "function": {"name": "get", "parameters": OBJ}}]
    spec = get_model_structural_tag("qwen_3", tools=tools, token_markers=True, reasoning="disabled")
    for as_text in (False, True):
        info = xgram.TokenizerInfo.from_huggingface(tok, special_tokens_as_text=as_text)
        compiled = xgram.GrammarCompiler(info).compile_structural_tag(spec)
        text = 'Checking.\n<tool_call>\n{"name": "get", "arguments": {"a": 1}}\n</tool_call>'
        matcher = xgram.GrammarMatcher(compiled)
        for token in tok.encode(text, add_special_tokens=False):
            assert _allowed(matcher, info.vocab_size)[token]
            assert matcher.accept_token(token)
        assert matcher.is_completed()
