"""Model tool-call structural tags (xgram.tool_calling) against XGrammar 0.2.9.

The differential tests run every registered model template over tool sets,
tool choices, reasoning modes and settings, and require the same structural
tag as ``xgrammar.get_model_structural_tag`` (compared after validating ours
with XGrammar's pydantic model) or the same error. The structure tests below
them need no XGrammar.
"""

from __future__ import annotations

import copy
import itertools
import json
import re

import pytest

import xgram
from xgram.tool_calling import (
    get_builtin_structural_tag,
    get_model_structural_tag,
    normalize_tool_choice,
    register_model_structural_tag,
)

MODELS = [
    "llama",
    "kimi",
    "kimi_k3",
    "deepseek_r1",
    "deepseek_v3_1",
    "qwen_3_coder",
    "qwen_3_5",
    "mimo",
    "qwen_3",
    "harmony",
    "deepseek_v3_2",
    "minimax",
    "minimax_m3",
    "glm_4_7",
    "gemma_4",
    "deepseek_v4",
    "deepseek_v4_1",
    "cohere",
    "exaone",
]
MARKER_MODELS = ["qwen_3_coder", "qwen_3_5", "qwen_3", "glm_4_7"]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather at a place.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time"}}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        "strict": False,
    },
}
BROWSER = {
    "type": "web_search_preview",
    "name": "browser.search",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
}
PYTHON = {"type": "code_interpreter"}

TOOL_SETS = {
    "none": [],
    "one": [WEATHER],
    "three": [WEATHER, TIME, SEARCH],
    "with_builtins": [WEATHER, BROWSER, PYTHON],
    "builtins_only": [BROWSER, PYTHON],
}
TOOL_CHOICES = {
    "auto": "auto",
    "default": None,
    "none": "none",
    "required": "required",
    "named": {"type": "function", "function": {"name": "get_weather"}},
    "builtin": {"type": "web_search_preview"},
    "allowed_auto": {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "auto",
            "tools": [
                {"type": "function", "function": {"name": "get_weather"}},
                {"type": "web_search_preview"},
            ],
        },
    },
    "allowed_required": {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": "get_weather"}}],
        },
    },
}
REQUIRED_MESSAGE = "Required tool choice needs at least one function tool."


def _xgrammar():
    return pytest.importorskip(
        "xgrammar", reason="XGrammar is the reference these tests compare to"
    )


def _theirs(xgr, kwargs):
    """XGrammar's structural tag as a dict, or the kind of error it raised."""
    from pydantic import ValidationError

    try:
        return "ok", xgr.get_model_structural_tag(**kwargs).model_dump()
    except AssertionError:
        return "assertion", None
    except ValidationError:
        return "invalid", None
    except ValueError as error:
        return "error", str(error)


def _ours(kwargs):
    """Our structural tag, validated and dumped by XGrammar's model, or our error."""
    from xgrammar.structural_tag import StructuralTag

    try:
        result = get_model_structural_tag(**kwargs)
    except xgram.UsageError as error:
        return "error", str(error)
    json.dumps(result)  # plain data: serialisable as it is
    return "ok", StructuralTag.model_validate(result).model_dump()


def _assert_same(xgr, kwargs):
    theirs, ours = _theirs(xgr, kwargs), _ours(kwargs)
    if theirs[0] == "assertion":
        # XGrammar asserts when "required" leaves only builtin tools for a model
        # that calls functions only; we raise a ValueError instead.
        assert ours == ("error", REQUIRED_MESSAGE), kwargs
    elif theirs[0] == "invalid":
        # A pydantic validation error there; a UsageError (also a ValueError) here.
        assert ours[0] == "error", kwargs
    else:
        assert ours == theirs, kwargs
    return theirs[0]


def _settings():
    """any_order / max_whitespace_cnt / exclude_special_tokens combinations, cycled."""
    return itertools.cycle(
        [
            {},
            {"any_order": True, "max_whitespace_cnt": 2},
            {"exclude_special_tokens": False, "force_reasoning": True},
            {"any_order": True, "exclude_special_tokens": False, "max_whitespace_cnt": 0},
        ]
    )


@pytest.mark.parametrize("model", MODELS)
def test_every_template_matches_xgrammar(model):
    xgr = _xgrammar()
    settings = _settings()
    outcomes = []
    for tools, choice, reasoning, parallel in itertools.product(
        TOOL_SETS.values(),
        TOOL_CHOICES.values(),
        ["enabled", "disabled", "auto"],
        [True, False],
    ):
        kwargs = dict(
            model=model,
            tools=copy.deepcopy(tools),
            tool_choice=copy.deepcopy(choice),
            reasoning=reasoning,
            parallel_tool_calls=parallel,
            **next(settings),
        )
        outcomes.append(_assert_same(xgr, kwargs))
    # Many combinations are valid, so many comparisons are of real structural tags.
    assert outcomes.count("ok") >= len(outcomes) // 3


def test_reasoning_flags_match_xgrammar():
    xgr = _xgrammar()
    for model, reasoning in itertools.product(MODELS, [True, False]):
        assert (
            _assert_same(xgr, {"model": model, "tools": [WEATHER], "reasoning": reasoning}) == "ok"
        )


def test_registered_models_are_xgrammars():
    xgr = _xgrammar()
    from xgrammar import builtin_structural_tag as reference

    assert list(reference._structural_tag_registry) == MODELS
    assert list(reference._structural_tag_marker_tokens) == MARKER_MODELS
    _assert_same(xgr, {"model": "no_such_model"})
    assert _assert_same(xgr, {"model": "llama", "token_markers": True}) == "error"


@pytest.mark.parametrize("model", MARKER_MODELS)
def test_token_markers_match_xgrammar(model):
    xgr = _xgrammar()
    settings = _settings()
    for tools, choice, reasoning, parallel in itertools.product(
        [[], [WEATHER], [WEATHER, TIME, SEARCH]],
        ["auto", "required", TOOL_CHOICES["named"]],
        ["enabled", "disabled", "auto"],
        [True, False],
    ):
        kwargs = dict(
            model=model,
            tools=tools,
            tool_choice=choice,
            reasoning=reasoning,
            parallel_tool_calls=parallel,
            token_markers=True,
            **next(settings),
        )
        _assert_same(xgr, kwargs)


def test_pydantic_tools_and_choices_match_xgrammar():
    xgr = _xgrammar()
    from xgrammar.openai_tool_call_schema import (
        AllowedToolChoiceParam,
        BuiltinToolChoiceParam,
        BuiltinToolParam,
        FunctionToolParam,
        NamedToolChoiceParam,
    )

    tools = [
        FunctionToolParam.model_validate(WEATHER),
        FunctionToolParam.model_validate(SEARCH),
        BuiltinToolParam.model_validate(BROWSER),
    ]
    choices = [
        "auto",
        NamedToolChoiceParam.model_validate(TOOL_CHOICES["named"]),
        BuiltinToolChoiceParam(type="web_search_preview"),
        AllowedToolChoiceParam.model_validate(TOOL_CHOICES["allowed_auto"]),
    ]
    for model, choice in itertools.product(["harmony", "qwen_3", "kimi"], choices):
        outcome = _assert_same(xgr, {"model": model, "tools": tools, "tool_choice": choice})
        # Only Harmony calls builtin tools; the others cannot be forced to.
        assert outcome == "ok" or choice is choices[2]


BAD_CALLS = [
    {"tools": {"not": "a list"}},
    {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
    {"tools": [WEATHER, WEATHER], "tool_choice": TOOL_CHOICES["named"]},
    {"tools": [BROWSER, BROWSER], "tool_choice": {"type": "web_search_preview"}},
    {"tools": [], "tool_choice": "required"},
    {"tools": [WEATHER], "tool_choice": "none_of_these"},
    {"tools": [WEATHER], "tool_choice": 3},
    {"tools": ["get_weather"]},
    {"tools": [{"function": {"parameters": {}}}]},
    {
        "tools": [WEATHER],
        "tool_choice": {
            "type": "allowed_tools",
            "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "name": "x"}]},
        },
    },
    {
        "tools": [WEATHER],
        "tool_choice": {
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "auto",
                "tools": [{"type": "function", "function": {"name": "missing"}}],
            },
        },
    },
    {
        "tools": [WEATHER],
        "tool_choice": {
            "type": "allowed_tools",
            "allowed_tools": {"mode": "auto", "tools": [{"type": "web_search_preview"}]},
        },
    },
    {"tools": [WEATHER], "reasoning": "sometimes"},
    {"tools": [WEATHER], "reasoning": 1},
    {"tools": [WEATHER], "parallel_tool_calls": "yes"},
    {"tools": [WEATHER], "token_markers": 1},
]


@pytest.mark.parametrize("call", BAD_CALLS, ids=range(len(BAD_CALLS)))
def test_errors_match_xgrammar(call):
    xgr = _xgrammar()
    assert _assert_same(xgr, {"model": "qwen_3", **call}) in ("error", "invalid")


def test_builtin_tools_rejected_like_xgrammar():
    xgr = _xgrammar()
    for model in ["mimo", "minimax_m3"]:
        assert _assert_same(xgr, {"model": model, "tools": [WEATHER, BROWSER]}) == "error"


@pytest.mark.parametrize(
    "tools, tool_choice",
    [
        (None, None),
        ([WEATHER, TIME, SEARCH, BROWSER, PYTHON], "auto"),
        ([WEATHER, BROWSER], "none"),
        ([WEATHER, BROWSER], "required"),
        ([WEATHER, TIME], TOOL_CHOICES["named"]),
        ([WEATHER, BROWSER, PYTHON], {"type": "code_interpreter", "name": "ignored"}),
        ([WEATHER, TIME, BROWSER, PYTHON], TOOL_CHOICES["allowed_auto"]),
        ([WEATHER, TIME], TOOL_CHOICES["allowed_required"]),
        ([{"function": {"name": "untyped"}}], {"function": {"name": "untyped"}}),
    ],
)
def test_normalize_tool_choice_matches_xgrammar(tools, tool_choice):
    xgr = _xgrammar()
    functions, builtins, choice = xgr.normalize_tool_choice(tools, tool_choice)
    expected = ([tool.model_dump() for tool in functions], [t.model_dump() for t in builtins])
    assert normalize_tool_choice(tools, tool_choice) == (*expected, choice)


# ---------- Without XGrammar: the structure itself ----------


def _schema_format(schema, style="json", **overrides):
    return {
        "type": "json_schema",
        "json_schema": schema,
        "style": style,
        "any_order": False,
        "max_whitespace_cnt": None,
        "excludes": [],
        **overrides,
    }


def test_qwen_3_auto_calls_are_triggered_after_reasoning():
    tag = get_model_structural_tag("qwen_3", [WEATHER, TIME], parallel_tool_calls=False)
    assert tag["type"] == "structural_tag"
    reasoning, reply = tag["format"]["elements"]
    assert reasoning == {
        "type": "sequence",
        "elements": [
            {
                "type": "tag",
                "begin": "",  # the prompt already opened <think>
                "content": {"type": "any_text", "excludes": ["<think>", "</think>"]},
                "end": "</think>",
            },
            {"type": "const_string", "value": "\n\n"},
        ],
    }
    assert reply["type"] == "triggered_tags"
    assert reply["triggers"] == ["<tool_call>"]
    assert (reply["at_least_one"], reply["stop_after_first"]) == (False, True)
    weather, time = reply["tags"]
    assert weather["begin"] == '<tool_call>\n{"name": "get_weather", "arguments": '
    assert weather["content"] == _schema_format(WEATHER["function"]["parameters"])
    assert weather["end"] == "}\n</tool_call>"
    # No parameters: any JSON arguments.
    assert time["content"]["json_schema"] is True


def test_llama_forced_call_is_one_tag_without_reasoning():
    tag = get_model_structural_tag(
        "llama", [WEATHER, SEARCH], {"type": "function", "function": {"name": "search"}}
    )
    assert tag["format"] == {
        "type": "tag",
        "begin": '{"name": "search", "parameters": ',
        "content": _schema_format(True),  # strict=False frees the arguments
        "end": "}",
    }


def test_deepseek_v4_turn_ends_after_one_calls_block():
    reply = get_model_structural_tag("deepseek_v4", [WEATHER], reasoning="disabled")["format"]
    assert reply["triggers"] == ["<｜DSML｜tool_calls>"]
    assert reply["stop_after_first"] is True
    (section,) = reply["tags"]
    assert section["begin"] == "<｜DSML｜tool_calls>\n"
    assert section["content"]["stop_after_first"] is False  # parallel calls inside
    assert section["content"]["tags"][0]["content"]["style"] == "deepseek_xml"


def test_minimax_without_reasoning_writes_the_empty_think_ending():
    reply = get_model_structural_tag("minimax", [], reasoning="disabled")["format"]
    assert [element["type"] for element in reply["elements"]] == [
        "const_string",
        "const_string",
        "any_text",
    ]
    assert reply["elements"][0]["value"] == "\n</think>\n\n"


def test_harmony_builtin_tool_and_single_call():
    tag = get_model_structural_tag(
        "harmony", [WEATHER, BROWSER], {"type": "web_search_preview"}, reasoning="disabled"
    )
    calls = tag["format"]
    assert calls["type"] == "tags_with_separator"
    assert [each["begin"] for each in calls["tags"]] == [
        "<|channel|>commentary to=browser.search code<|message|>",
        " to=browser.search<|channel|>commentary code<|message|>",
    ]
    one = get_model_structural_tag("harmony", [WEATHER], parallel_tool_calls=False)["format"]
    assert one["type"] == "or"
    assert one["elements"][1]["stop_after_first"] is True


def test_token_markers_turn_markers_into_tokens():
    reply = get_model_structural_tag("qwen_3", [WEATHER], reasoning="disabled", token_markers=True)[
        "format"
    ]
    assert reply["type"] == "token_triggered_tags"
    assert reply["trigger_tokens"] == ["<tool_call>"]
    (call,) = reply["tags"]
    assert call["begin"] == {"type": "token", "token": "<tool_call>"}
    assert call["end"] == {"type": "token", "token": "</tool_call>"}
    assert call["content"]["elements"][0] == {
        "type": "const_string",
        "value": '\n{"name": "get_weather", "arguments": ',
    }


def test_result_is_plain_data_independent_of_the_callers_tools():
    tools = copy.deepcopy([WEATHER])
    tag = get_model_structural_tag("glm_4_7", tools, reasoning="auto")
    tools[0]["function"]["parameters"]["properties"].clear()
    assert json.loads(json.dumps(tag)) == tag
    call = tag["format"]["elements"][1]["tags"][0]
    assert call["content"]["json_schema"] == WEATHER["function"]["parameters"]
    assert get_builtin_structural_tag is get_model_structural_tag


def test_objects_with_model_dump_are_read_as_dicts():
    class Tool:
        def model_dump(self):
            return copy.deepcopy(WEATHER)

    assert get_model_structural_tag("kimi", [Tool()]) == get_model_structural_tag("kimi", [WEATHER])


def test_register_a_template():
    def build(functions, builtins, choice, reasoning, **settings):
        names = [tool["function"]["name"] for tool in functions]
        return {"type": "structural_tag", "format": {"type": "const_string", "value": str(names)}}

    register_model_structural_tag("test_only_model", marker_tokens=["["])(build)
    try:
        tag = get_model_structural_tag("test_only_model", [WEATHER], token_markers=True)
    finally:
        from xgram.tool_calling import _api

        _api._builders.pop("test_only_model")
        _api._marker_tokens.pop("test_only_model")
    assert tag["format"]["elements"][0] == {"type": "token", "token": "["}


@pytest.mark.parametrize(
    "call, message",
    [
        ({"tools": [{"type": "function", "name": "flat"}]}, "without a 'function' object"),
        ({"tools": [{"type": "function", "function": {"name": 3}}]}, "function.name"),
        ({"tools": [WEATHER], "any_order": "yes"}, "'any_order'"),
        ({"tools": [WEATHER], "max_whitespace_cnt": -1}, "'max_whitespace_cnt'"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "name": "x"}}, "Chat"),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "allowed_tools", "mode": "auto"}},
            "needs {'allowed_tools'",
        ),
        ({"model": "kimi_k3", "tools": [BROWSER], "tool_choice": "required"}, REQUIRED_MESSAGE),
        ({"model": "mimo", "tools": [BROWSER]}, "MiMo does not support builtin tools."),
    ],
)
def test_clear_errors(call, message):
    # Where XGrammar lets a malformed tool through (a flat function tool becomes a builtin
    # tool named "function") or raises AssertionError, xgram raises a UsageError.
    with pytest.raises(xgram.UsageError, match=re.escape(message)):
        get_model_structural_tag(**{"model": "qwen_3", **call})
