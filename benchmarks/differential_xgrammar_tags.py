"""Structural tags for the XGrammar differential: 40 hand-written ones and model templates.

The hand-written tags use XGrammar 0.2.9's JSON form (as ``tests/test_structural_tag.py``)
and together cover every byte-level format: const_string, json_schema, grammar, regex,
sequence, or, optional, star, plus, repeat, tag, triggered_tags, tags_with_separator,
any_text and dispatch. Each comes with a few texts it should accept, so walks start from
realistic outputs and not only from sampled ones.

Model templates come from ``xgrammar.get_model_structural_tag(family, tools, tool_choice)``
(imported only when they are asked for).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

OBJ = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
WEATHER = {
    "type": "object",
    "properties": {
        "location": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
    },
    "required": ["location"],
}
SEARCH = {
    "type": "object",
    "properties": {"query": {"type": "string", "maxLength": 40}, "top_k": {"type": "integer"}},
    "required": ["query"],
}


def const(value: str) -> Dict[str, Any]:
    return {"type": "const_string", "value": value}


def tag(begin: str, content: Dict[str, Any], end: Any) -> Dict[str, Any]:
    return {"type": "tag", "begin": begin, "content": content, "end": end}


def schema(s: Any, **extra: Any) -> Dict[str, Any]:
    return {"type": "json_schema", "json_schema": s, **extra}


def any_text(**extra: Any) -> Dict[str, Any]:
    return {"type": "any_text", **extra}


def fn_tag(name: str, params: Any) -> Dict[str, Any]:
    return tag(f"<function={name}>", schema(params), "</function>")


FN_TAGS = [fn_tag("get_weather", WEATHER), fn_tag("search", SEARCH)]
TC_TAGS = [
    tag('<tool_call>\n{"name": "get_weather", "arguments": ', schema(WEATHER), "}\n</tool_call>"),
    tag('<tool_call>\n{"name": "search", "arguments": ', schema(SEARCH), "}\n</tool_call>"),
]
GRAMMAR_AB = 'root ::= "(" item ("," item)* ")"\nitem ::= [a-z]+ | root'

# (id, format, texts it accepts)
TAGS: List[Tuple[str, Dict[str, Any], List[str]]] = [
    ("const", const("Hello, world!\n"), ["Hello, world!\n"]),
    (
        "const_unicode",
        const("caf\u00e9 \u65e5\u672c \U0001f600"),
        ["caf\u00e9 \u65e5\u672c \U0001f600"],
    ),
    ("schema_obj", schema(OBJ), ['{"a": 1}', '{"a":-20}']),
    ("schema_weather", schema(WEATHER), ['{"location": "Paris", "unit": "celsius", "days": 3}']),
    ("schema_ws2", schema(WEATHER, max_whitespace_cnt=2), ['{ "location":"Oslo" }']),
    ("schema_any_order", schema(WEATHER, any_order=True), ['{"days": 2, "location": "Rome"}']),
    ("schema_true", schema(True), ['[1, "x", {"k": null}]', "3.5"]),
    ("grammar", {"type": "grammar", "grammar": GRAMMAR_AB}, ["(a,bc,(d))"]),
    ("regex_date", {"type": "regex", "pattern": r"\d{4}-\d{2}-\d{2}"}, ["2024-02-29"]),
    ("regex_alt", {"type": "regex", "pattern": r"(yes|no)( \(sure\))?"}, ["yes (sure)", "no"]),
    ("any_text", any_text(), ["anything at all \u00e9\n", ""]),
    ("any_text_excl", any_text(excludes=["</s>", "STOP"]), ["text </ s> ST OP"]),
    ("any_text_max", any_text(max_chars=12), ["twelve chars"]),
    (
        "sequence",
        {
            "type": "sequence",
            "elements": [const("Answer: "), {"type": "regex", "pattern": "[A-D]"}],
        },
        ["Answer: C"],
    ),
    (
        "sequence_mixed",
        {"type": "sequence", "elements": [any_text(excludes=["{"]), schema(OBJ)]},
        ['Here it is {"a": 5}'],
    ),
    ("or", {"type": "or", "elements": [const("none"), schema(SEARCH)]}, ["none", '{"query": "x"}']),
    (
        "optional",
        {"type": "sequence", "elements": [const("a"), {"type": "optional", "content": const("b")}]},
        ["a", "ab"],
    ),
    ("star", {"type": "star", "content": const("ab")}, ["", "ababab"]),
    ("plus", {"type": "plus", "content": {"type": "regex", "pattern": "[0-9]{2};"}}, ["12;34;"]),
    ("repeat", {"type": "repeat", "min": 2, "max": 4, "content": const("z")}, ["zz", "zzzz"]),
    ("repeat_open", {"type": "repeat", "min": 1, "max": -1, "content": schema(OBJ)}, ['{"a":1}']),
    ("tag", tag("<a>", any_text(), "</a>"), ["<a>some text</a>", "<a></a>"]),
    ("tag_ends", tag("<a>", any_text(), ["</a>", "</b>"]), ["<a>x</b>"]),
    ("tag_json", tag("<json>", schema(WEATHER), "</json>"), ['<json>{"location": "X"}</json>']),
    (
        "tag_nested",
        tag("<out>", tag("<in>", const("x"), "</in>"), "</out>"),
        ["<out><in>x</in></out>"],
    ),
    (
        "triggered",
        {"type": "triggered_tags", "triggers": ["<function="], "tags": FN_TAGS},
        ['Let me check. <function=get_weather>{"location": "Paris"}</function> Done.', "no call"],
    ),
    (
        "triggered_least_one",
        {
            "type": "triggered_tags",
            "triggers": ["<function="],
            "tags": FN_TAGS,
            "at_least_one": True,
        },
        ['<function=search>{"query": "cats"}</function>'],
    ),
    (
        "triggered_stop_first",
        {
            "type": "triggered_tags",
            "triggers": ["<function="],
            "tags": FN_TAGS,
            "stop_after_first": True,
        },
        ['ok <function=search>{"query": "a", "top_k": 3}</function>'],
    ),
    (
        "triggered_excludes",
        {
            "type": "triggered_tags",
            "triggers": ["<tool_call>"],
            "tags": TC_TAGS,
            "excludes": ["<|eot_id|>"],
        },
        ['Sure.\n<tool_call>\n{"name": "search", "arguments": {"query": "x"}}\n</tool_call>'],
    ),
    (
        "triggered_two_triggers",
        {
            "type": "triggered_tags",
            "triggers": ["<f", "<g"],
            "tags": [tag("<f1>", schema(OBJ), "</f>"), tag("<g>", const("Y"), "</g>")],
        },
        ['x <f1>{"a": 1}</f> y <g>Y</g>', "a <"],
    ),
    (
        "tags_sep",
        {"type": "tags_with_separator", "tags": FN_TAGS, "separator": "\n"},
        [
            '<function=search>{"query": "q"}</function>\n'
            '<function=get_weather>{"location": "L"}</function>'
        ],
    ),
    (
        "tags_sep_least_one",
        {"type": "tags_with_separator", "tags": TC_TAGS, "separator": "\n", "at_least_one": True},
        ['<tool_call>\n{"name": "get_weather", "arguments": {"location": "Oslo"}}\n</tool_call>'],
    ),
    (
        "tags_sep_stop_first",
        {
            "type": "tags_with_separator",
            "tags": FN_TAGS,
            "separator": ",",
            "stop_after_first": True,
        },
        ["", '<function=search>{"query": "q"}</function>'],
    ),
    (
        "dispatch_loop",
        {"type": "dispatch", "rules": [["<f>", const("X")], ["<j>", schema(OBJ)]], "loop": True},
        ['a<f>X b<j>{"a": 2} c', ""],
    ),
    (
        "dispatch_once",
        {
            "type": "dispatch",
            "rules": [["Answer:", {"type": "regex", "pattern": " [0-9]+"}]],
            "loop": False,
        },
        ["thinking... Answer: 42"],
    ),
    (
        "dispatch_excludes",
        {"type": "dispatch", "rules": [["<f>", const("X")]], "loop": True, "excludes": ["</s>"]},
        ["a<f>X b<f>X"],
    ),
    (
        "think_then_answer",
        {
            "type": "sequence",
            "elements": [
                tag("<think>", any_text(excludes=["<think>"]), "</think>"),
                {"type": "triggered_tags", "triggers": ["<tool_call>"], "tags": TC_TAGS},
            ],
        },
        [
            "<think>hmm</think>Calling.<tool_call>\n"
            '{"name": "search", "arguments": {"query": "q"}}\n</tool_call>'
        ],
    ),
    (
        "python_tag",
        {
            "type": "sequence",
            "elements": [
                const("<|python_tag|>"),
                {
                    "type": "tags_with_separator",
                    "tags": [tag('{"name": "search", "parameters": ', schema(SEARCH), "}")],
                    "separator": "; ",
                },
            ],
        },
        ['<|python_tag|>{"name": "search", "parameters": {"query": "x"}}'],
    ),
    (
        "qwen_xml",
        tag(
            "<tool_call>\n<function=get_weather>\n",
            schema(WEATHER, style="qwen_xml"),
            "</function>\n</tool_call>",
        ),
        [
            "<tool_call>\n<function=get_weather>\n<parameter=location>\nParis\n</parameter>\n</function>\n</tool_call>"
        ],
    ),
    (
        "or_of_tags",
        {
            "type": "or",
            "elements": [tag("<yes>", const("1"), "</yes>"), tag("<no>", any_text(), "</no>")],
        },
        ["<yes>1</yes>", "<no>why not</no>"],
    ),
]

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "search", "parameters": SEARCH}},
]
FAMILIES = [
    "llama",
    "qwen_3",
    "qwen_3_coder",
    "deepseek_v3_2",
    "harmony",
    "kimi",
    "minimax",
    "glm_4_7",
    "deepseek_r1",
    "qwen_3_5",
]
TOOL_CHOICES: List[Any] = ["auto", "required"]


def structural_tag_cases() -> List[Dict[str, Any]]:
    cases = []
    for name, fmt, texts in TAGS:
        cases.append(
            {
                "family": "structural_tag",
                "id": name,
                "kind": "structural_tag",
                "source": {"type": "structural_tag", "format": fmt},
                "examples": [(True, t) for t in texts],
            }
        )
    return cases


def model_template_cases(families: List[str] = FAMILIES) -> List[Dict[str, Any]]:
    """``get_model_structural_tag`` for each family and tool choice (errors become refusals)."""
    import xgrammar

    cases = []
    for family in families:
        for choice in TOOL_CHOICES:
            case: Dict[str, Any] = {
                "family": "model_template",
                "id": f"{family}/{choice}",
                "kind": "structural_tag",
                "examples": [],
            }
            try:
                tag_obj = xgrammar.get_model_structural_tag(family, tools=TOOLS, tool_choice=choice)
                case["source"] = tag_obj.model_dump()
            except Exception as exc:  # an unknown family in this XGrammar version
                case["source"] = None
                case["setup_error"] = f"{type(exc).__name__}: {exc}"
            cases.append(case)
    return cases
