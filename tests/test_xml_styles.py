"""XGrammar 0.2.9's ``json_schema`` styles: tool arguments in a model's own syntax.

Each style is checked on five schemas (flat, nested object, arrays, enum/const,
optional parameters in any order) with argument sets written the way the model
writes them, accepted and rejected. Where XGrammar is exact the real XGrammar
(if installed) must agree on every string; the places where it is looser than
the schema, and xgram is not, are listed in ``DIVERGENCES`` and checked on both.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

import xgram
from xgram.json_schema.xml_styles import STYLES, xml_style_ebnf, xml_style_grammar

ALL_STYLES = ["json", *STYLES]
DSML = "｜DSML｜"
M3 = "]<]minimax[>["
Args = Sequence[Tuple[str, Any]]  # ordered, repeats allowed


# --- how each model writes its arguments -----------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "number"
    return "array" if isinstance(value, list) else "object"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _cohere(name: Optional[str], value: Any) -> str:
    attr = "" if name is None else f' name="{name}"'
    kind = _kind(value)
    if kind == "object":
        inner = "\n".join(_cohere(k, v) for k, v in value.items())
        return f'<cofl:value{attr} type="dict">{inner}</cofl:value>'
    if kind == "array":
        inner = "".join(_cohere(None, v) for v in value)
        return f'<cofl:value{attr} type="list">{inner}</cofl:value>'
    tag = "raw" if kind == "string" else "json"
    return f'<cofl:value{attr} type="{tag}">{_text(value)}</cofl:value>'


def _m3(name: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_m3(k, v) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(_m3("item", v) for v in value)
    else:
        inner = _text(value)
    return f"{M3}<{name}>{inner}{M3}</{name}>"


def _gemma(value: Any) -> str:
    if isinstance(value, str):
        return f'<|"|>{value}<|"|>'
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_gemma(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_gemma(v) for v in value) + "]"
    return json.dumps(value)


def _parameter(style: str, name: str, value: Any) -> str:
    kind, text = _kind(value), _text(value)
    if style == "qwen_xml":
        return f"<parameter={name}>{text}</parameter>"
    if style == "minimax_xml":
        return f'<parameter name="{name}">{text}</parameter>'
    if style in ("deepseek_xml", "deepseek_v4_1_xml"):
        token = DSML + (" " if style == "deepseek_v4_1_xml" else "")
        flag = "true" if kind == "string" else "false"
        return f'<{token}parameter name="{name}" string="{flag}">{text}</{token}parameter>'
    if style == "glm_xml":
        return f"<arg_key>{name}</arg_key>\n<arg_value>{text}</arg_value>"
    if style == "kimi_k3_xml":
        return f'<|open|>argument key="{name}" type="{kind}"<|sep|>{text}<|close|>argument<|sep|>'
    if style == "cohere_xml":
        return _cohere(name, value)
    assert style == "minimax_m3_xml"
    return _m3(name, value)


def render(style: str, args: Args) -> str:
    """``args`` (name, value pairs) as the style's model writes them."""
    if style == "json":
        return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in args) + "}"
    if style == "gemma":
        return "{" + ",".join(f"{k}:{_gemma(v)}" for k, v in args) + "}"
    return "\n".join(_parameter(style, k, v) for k, v in args)


# --- the real XGrammar -------------------------------------------------------------------------


def _xgrammar_accepts(schema: Any, style: str, text: str, **options: Any) -> Optional[bool]:
    """XGrammar's verdict on ``text``, or None without xgrammar."""
    try:
        import xgrammar  # noqa: PLC0415
    except ImportError:
        return None
    fmt = {"type": "json_schema", "json_schema": schema, "style": style, **options}
    grammar = _xgrammar_grammar(json.dumps({"type": "structural_tag", "format": fmt}))
    return xgrammar.testing._is_grammar_accept_string(grammar, text)


_XGR_CACHE: Dict[str, Any] = {}


def _xgrammar_grammar(tag: str) -> Any:
    import xgrammar  # noqa: PLC0415

    if tag not in _XGR_CACHE:
        _XGR_CACHE[tag] = xgrammar.Grammar.from_structural_tag(json.loads(tag))
    return _XGR_CACHE[tag]


_XG_CACHE: Dict[str, xgram.Grammar] = {}


def _xgram(schema: Any, style: str, **options: Any) -> xgram.Grammar:
    key = json.dumps([schema, style, options], sort_keys=True)
    if key not in _XG_CACHE:
        _XG_CACHE[key] = xml_style_grammar(schema, style, **options)
    return _XG_CACHE[key]


# --- the matrix --------------------------------------------------------------------------------

OBJ = "object"
FLAT = {
    "type": OBJ,
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer"},
        "metric": {"type": "boolean"},
    },
    "required": ["city"],
}
NESTED = {
    "type": OBJ,
    "properties": {
        "loc": {
            "type": OBJ,
            "properties": {"lat": {"type": "number"}, "name": {"type": "string"}},
            "required": ["lat"],
        }
    },
    "required": ["loc"],
}
ARRAYS = {
    "type": OBJ,
    "properties": {
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "ids": {"type": "array", "items": {"type": "integer"}},
    },
}
ENUMS = {
    "type": OBJ,
    "properties": {
        "unit": {"enum": ["c", "f"]},
        "mode": {"const": "fast"},
        "level": {"enum": [1, "max"]},
    },
    "required": ["unit"],
}
OPTIONAL = {
    "type": OBJ,
    "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "boolean"}},
    "required": ["a", "b"],
}

# (name, schema, options, accepted argument sets, rejected argument sets)
MATRIX: List[Tuple[str, Any, Dict[str, Any], List[Args], List[Args]]] = [
    (
        "flat",
        FLAT,
        {},
        [
            [("city", "Paris")],
            [("city", "New York, NY"), ("days", 3), ("metric", True)],
            [("city", ""), ("metric", False)],
            [("city", " two\nlines <b>bold</b> ")],
        ],
        [
            [("days", 3)],
            [("city", "Paris"), ("days", "three")],
            [("days", 3), ("city", "Paris")],
            [("city", "Paris"), ("zone", 1)],
            [("city", "Paris"), ("metric", "yes")],
            [("city", "Paris"), ("city", "Rome")],
        ],
    ),
    (
        "nested",
        NESTED,
        {},
        [[("loc", {"lat": 48.85})], [("loc", {"lat": -1, "name": "x y"})]],
        [[("loc", {"name": "x"})], [("loc", {"lat": "north"})], [("loc", "here")], []],
    ),
    (
        "arrays",
        ARRAYS,
        {},
        [[], [("tags", ["a", "b"])], [("tags", []), ("ids", [1, 2, 3])], [("ids", [7])]],
        [[("tags", ["a", "b", "c"])], [("ids", ["x"])], [("tags", [{"k": 1}])], [("ids", 5)]],
    ),
    (
        "enums",
        ENUMS,
        {},
        [
            [("unit", "c")],
            [("unit", "f"), ("mode", "fast"), ("level", 1)],
            [("unit", "c"), ("level", "max")],
        ],
        [
            [("unit", "k")],
            [("unit", "c"), ("mode", "slow")],
            [("unit", "c"), ("level", 2)],
            [("mode", "fast")],
            [("unit", "cc")],
        ],
    ),
    (
        "any_order",
        OPTIONAL,
        {"any_order": True},
        [
            [("b", 1), ("a", "x")],
            [("c", True), ("b", 2), ("a", "x")],
            [("a", "x"), ("c", False), ("b", 3)],
        ],
        [[("a", "x")], [("b", 1)], [("a", "x"), ("b", "one")], [("a", "x"), ("d", 1), ("b", 1)]],
    ),
]

CASES = [
    pytest.param(style, schema, options, good, bad, id=f"{style}-{name}")
    for style in ALL_STYLES
    for name, schema, options, good, bad in MATRIX
]


@pytest.mark.parametrize("style, schema, options, good, bad", CASES)
def test_matrix(
    style: str, schema: Any, options: Dict[str, Any], good: List[Args], bad: List[Args]
) -> None:
    grammar = _xgram(schema, style, **options)
    wrong, disputed = [], []
    for want, sets in ((True, good), (False, bad)):
        for args in sets:
            text = render(style, args)
            if grammar.accepts(text) != want:
                wrong.append(text)
            if _xgrammar_accepts(schema, style, text, **options) not in (None, want):
                disputed.append(text)
    assert not wrong, f"xgram is wrong on {wrong}"
    assert not disputed, f"XGrammar disagrees on {disputed}"


# --- where XGrammar is looser (or spells differently) and xgram stays exact -------------------


def _p(name: str, value: str) -> str:
    return f"<parameter={name}>{value}</parameter>"


_KIMI = '<|open|>argument key="{}" type="{}"<|sep|>{}<|close|>argument<|sep|>'
_PATTERNS = {
    "type": OBJ,
    "properties": {
        "p": {"type": "string", "pattern": "^[a-z]+$"},
        "u": {"type": "string", "pattern": "ab"},
        "l": {"type": "string", "maxLength": 5},
    },
}

# (why, style, schema, options, text, xgram's verdict, XGrammar's verdict)
DIVERGENCES = [
    (
        "any_order: XGrammar counts entries, so a required key may repeat",
        "qwen_xml",
        OPTIONAL,
        {"any_order": True},
        _p("b", "1") + _p("b", "2") + _p("a", "x"),
        False,
        True,
    ),
    (
        "an undeclared name must differ from the declared ones",
        "qwen_xml",
        {
            "type": OBJ,
            "properties": {"a": {"type": "string"}},
            "additionalProperties": {"type": "integer"},
        },
        {},
        _p("a", "x") + _p("a", "3"),
        False,
        True,
    ),
    (
        "strict mode: an object schema without additionalProperties has no other names",
        "qwen_xml",
        {"type": OBJ},
        {},
        _p("q", "x"),
        False,
        True,
    ),
    (
        "a type attribute matches its value (mixed enum)",
        "kimi_k3_xml",
        ENUMS,
        {},
        _KIMI.format("unit", "string", "c") + _KIMI.format("level", "string", "1"),
        False,
        True,
    ),
    (
        "a raw string is not padded with whitespace (pattern)",
        "qwen_xml",
        _PATTERNS,
        {},
        _p("p", " abc "),
        False,
        True,
    ),
    ("pattern searches (JSON Schema)", "qwen_xml", _PATTERNS, {}, _p("u", "xaby"), True, False),
    (
        "length bounds hold together with excludes",
        "qwen_xml",
        _PATTERNS,
        {"excludes": ["zz"]},
        _p("l", "abcdef"),
        False,
        True,
    ),
    (
        "a literal structure may use JSON whitespace",
        "cohere_xml",
        {"type": OBJ, "properties": {"c": {"const": {"k": [1]}}}},
        {},
        '<cofl:value name="c" type="json">{"k": [1]}</cofl:value>',
        True,
        False,
    ),
    (
        "the arguments of {} are an object (Gemma)",
        "gemma",
        {},
        {},
        "1",
        False,
        True,
    ),
]


@pytest.mark.parametrize(
    "why, style, schema, options, text, ours, theirs",
    [pytest.param(*d, id=d[0][:40]) for d in DIVERGENCES],
)
def test_divergences(
    why: str, style: str, schema: Any, options: Dict[str, Any], text: str, ours: bool, theirs: bool
) -> None:
    assert _xgram(schema, style, **options).accepts(text) == ours, why
    assert _xgrammar_accepts(schema, style, text, **options) in (None, theirs), why


# --- specifics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("style", [s for s in STYLES if s != "gemma"])
def test_raw_value_never_holds_its_terminator(style: str) -> None:
    terminator = STYLES[style].terminator
    g = _xgram(FLAT, style)
    assert g.accepts(render(style, [("city", "a " + terminator[:-1] + " b")]))
    assert not g.accepts(render(style, [("city", "a" + terminator + "b")]))


def test_whitespace_between_and_inside_parameters() -> None:
    g = _xgram(FLAT, "qwen_xml", max_whitespace_cnt=2)
    assert g.accepts("  " + _p("city", "x") + "\n\t" + _p("days", " 3\n") + "  ")
    assert not g.accepts("   " + _p("city", "x"))
    assert not g.accepts(_p("city", "x") + "\n \t" + _p("days", "3"))
    glm = _xgram(FLAT, "glm_xml")
    assert glm.accepts("<arg_key>city</arg_key>\n<arg_value>x</arg_value>")
    assert not glm.accepts("<arg_key> city</arg_key><arg_value>x</arg_value>")


def test_excludes_reach_nested_strings_keys_and_literals() -> None:
    schema = {
        "type": OBJ,
        "properties": {
            "a": {"type": "string"},
            "n": {"type": OBJ, "properties": {"s": {"type": "string"}}},
            "e": {"enum": ["okzz", "ok"]},
            "p": {"type": "string", "pattern": "^[a-z]+$"},
        },
        "additionalProperties": {"type": "integer"},
    }
    g = _xgram(schema, "qwen_xml", excludes=["zz"])
    for text, want in [
        (_p("a", "xzzy"), False),
        (_p("a", "xz zy"), True),
        (_p("n", '{"s": "azz"}'), False),
        (_p("n", '{"s": "a"}'), True),
        (_p("e", "okzz"), False),
        (_p("e", "ok"), True),
        (_p("p", "zz"), True),  # a pattern is left to itself, as in XGrammar
        (_p("zzq", "1"), False),
        (_p("q", "1"), True),
    ]:
        assert g.accepts(text) == want, text
        assert _xgrammar_accepts(schema, "qwen_xml", text, excludes=["zz"]) in (None, want), text
    gemma = _xgram(schema, "gemma", excludes=["zz"])
    assert not gemma.accepts('{a:<|"|>zz<|"|>}') and gemma.accepts('{a:<|"|>z<|"|>}')
    js = _xgram(schema, "json", excludes=["zz"])
    assert not js.accepts('{"n": {"s": "zz"}}') and not js.accepts('{"zz": 1}')
    assert js.accepts('{"q": 1}')


@pytest.mark.parametrize("max_length", [5, 100000])
def test_length_bounds_with_exclusions(max_length: int) -> None:
    # A short bound is one automaton; a long one a counted repetition with lookaheads.
    schema = {
        "type": OBJ,
        "properties": {"a": {"type": "string", "minLength": 1, "maxLength": max_length}},
    }
    g = _xgram(schema, "kimi_k3_xml", excludes=["<x", "zz"])
    xgram.GrammarCompiler(xgram.TokenizerInfo(["a", "<", "x", "|"])).compile_grammar(g)
    param = _KIMI.format("a", "string", "{}")
    assert g.accepts(param.format("a<")) and g.accepts(param.format("a" * max_length))
    assert g.accepts(param.format("z<z")) and g.accepts(param.format("<|clo"))
    assert not g.accepts(param.format("a" * (max_length + 1))) and not g.accepts(param.format(""))
    for bad in ("a<x", "zz", "<zz", "a<|close|>argument<|sep|>"):
        assert not g.accepts(param.format(bad)), bad


def test_undeclared_names_and_type_headers() -> None:
    schema = {
        "type": OBJ,
        "properties": {"a": {"type": "string"}},
        "additionalProperties": {"type": "integer"},
    }
    g = _xgram(schema, "qwen_xml")
    assert g.accepts(_p("a", "x") + _p("zz", "3")) and g.accepts(_p("zz_1", "3"))
    assert not g.accepts(_p("zz", "x")) and not g.accepts(_p("9z", "3"))
    kimi = _xgram(schema, "kimi_k3_xml")
    assert kimi.accepts(_KIMI.format("zz", "number", "3"))
    assert not kimi.accepts(_KIMI.format("zz", "integer", "3"))
    deepseek = _xgram(
        {"type": OBJ, "properties": {"v": {"type": ["string", "null"]}}}, "deepseek_xml"
    )
    head = '<{0}parameter name="v" string="{1}">{2}</{0}parameter>'
    assert deepseek.accepts(head.format(DSML, "true", "null"))  # the text "null"
    assert deepseek.accepts(head.format(DSML, "false", " null "))
    assert not deepseek.accepts(head.format(DSML, "false", "nil"))


def test_key_escaping() -> None:
    kimi = _xgram({"type": OBJ, "properties": {'a"b&c': {"type": "integer"}}}, "kimi_k3_xml")
    assert kimi.accepts(_KIMI.format("a&quot;b&amp;c", "number", "1"))
    assert not kimi.accepts(_KIMI.format('a"b&c', "number", "1"))
    cohere = _xgram({"type": OBJ, "properties": {"a<b": {"type": "boolean"}}}, "cohere_xml")
    assert cohere.accepts('<cofl:value name="a&lt;b" type="json">true</cofl:value>')
    assert not cohere.accepts('<cofl:value name="a<b" type="json">true</cofl:value>')


def test_roots_that_are_not_objects() -> None:
    assert _xgram({"type": "string"}, "qwen_xml").accepts("free text")
    assert not _xgram({"type": "string"}, "qwen_xml").accepts("a</parameter>")
    assert _xgram({"type": "integer"}, "qwen_xml").accepts("12")
    assert _xgram({"type": "string"}, "gemma").accepts('<|"|>x<|"|>')
    free = _xgram({}, "qwen_xml")  # unconstrained arguments: any parameters
    assert free.accepts("") and free.accepts(_p("q", "x") + _p("n", '[1, {"a": 2}]'))


def test_recursive_schemas() -> None:
    tree = {
        "$defs": {
            "node": {
                "type": OBJ,
                "properties": {
                    "v": {"type": "integer"},
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["v"],
            }
        },
        "$ref": "#/$defs/node",
    }
    gemma = _xgram(tree, "gemma")
    assert gemma.accepts("{v:1,kids:[{v:2,kids:[]},{v:3}]}")
    assert not gemma.accepts("{v:1,kids:[{kids:[]}]}")
    m3 = _xgram(tree, "minimax_m3_xml")
    assert m3.accepts(_m3("v", 1) + _m3("kids", [{"v": 2}]))
    assert not m3.accepts(_m3("v", 1) + _m3("kids", [{"kids": []}]))
    cohere = _xgram(tree, "cohere_xml")
    assert cohere.accepts(render("cohere_xml", [("v", 1), ("kids", [{"v": 2, "kids": []}])]))
    assert not cohere.accepts(render("cohere_xml", [("v", 1), ("kids", [{"kids": []}])]))


@pytest.mark.parametrize(
    "schema, style, options, message",
    [
        (
            {"type": OBJ, "properties": {"a>b": {"type": "string"}}},
            "qwen_xml",
            {},
            "cannot be written",
        ),
        (
            {"type": OBJ, "properties": {'a"b': {"type": "string"}}},
            "minimax_xml",
            {},
            "cannot be written",
        ),
        (
            {"type": OBJ, "properties": {"a:b": {"type": "string"}}},
            "gemma",
            {},
            "cannot be written",
        ),
        (
            {"type": OBJ, "properties": {"a": {"type": "array"}}},
            "minimax_m3_xml",
            {},
            "/properties/a/items",
        ),
        (
            {"type": OBJ, "additionalProperties": {"type": "integer"}},
            "minimax_m3_xml",
            {},
            "declared",
        ),
        ({"type": OBJ, "patternProperties": {"^x": {}}}, "qwen_xml", {}, "patternProperties"),
        (
            {"type": OBJ, "properties": {"a": {"type": "array", "uniqueItems": True}}},
            "gemma",
            {},
            "uniqueItems",
        ),
        (
            {"type": OBJ, "properties": {"a": {"type": "string", "pattern": "a(?=b)"}}},
            "qwen_xml",
            {},
            "/properties/a",
        ),
        (FLAT, "qwen_xml", {"excludes": [" x"]}, "whitespace"),
        (FLAT, "cohere_xml", {"excludes": ["x"]}, "not supported"),
        (FLAT, "qwen_xml", {"excludes": [""]}, "non-empty"),
        (FLAT, "qwen_xml", {"max_whitespace_cnt": 0}, "positive"),
        (FLAT, "yaml", {}, "unknown style"),
    ],
)
def test_refusals(schema: Any, style: str, options: Dict[str, Any], message: str) -> None:
    with pytest.raises(xgram.SchemaError, match=message.replace("(", r"\(").replace("?", r"\?")):
        xml_style_ebnf(schema, style, **options)


def test_json_style_is_from_json_schema() -> None:
    g = xml_style_grammar(FLAT, "json", max_whitespace_cnt=3)
    assert str(g) == str(xgram.Grammar.from_json_schema(FLAT, max_whitespace_cnt=3))
