"""Models whose output is a stream of delimited messages: Harmony (gpt-oss) and Kimi-K3.

Their tool calls are messages (Harmony) or a block among the message's blocks
(Kimi-K3), so they get builders of their own, written with the shared pieces.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from ..errors import UsageError
from ._formats import (
    Format,
    any_text,
    const_string,
    one_of,
    optional,
    sequence,
    tag,
    tags_with_separator,
)
from ._normalize import Tool, arguments_schema, builtin_output_name
from ._template import (
    FORCED_TOOL_ERROR,
    REQUIRED_TOOL_ERROR,
    BuildOptions,
    CallSyntax,
    ReasoningBlock,
    call_list,
    model_builder,
)

_HARMONY_CALL_END = "<|call|>"
_HARMONY_MESSAGE_END = ["<|end|>", "<|return|>"]
_HARMONY_NEXT_MESSAGE = "<|start|>assistant"


# gpt-oss names the recipient either in the channel header or before it.
_HARMONY_FUNCTION_HEADERS = (
    "<|channel|>commentary to=functions.{name}<|constrain|>json<|message|>",
    " to=functions.{name}<|channel|>commentary <|constrain|>json<|message|>",
    " to=functions.{name}<|channel|>commentary json<|message|>",
)
_HARMONY_BUILTIN_HEADERS = (
    "<|channel|>commentary to={name} code<|message|>",
    " to={name}<|channel|>commentary code<|message|>",
)


def _harmony_calls(
    headers: Tuple[str, ...], name: str, schema: Any, options: BuildOptions
) -> List[Format]:
    """One call message per header; each gets its own copy of the arguments format."""
    return [
        tag(header.replace("{name}", name), options.arguments(schema), _HARMONY_CALL_END)
        for header in headers
    ]


def _harmony_tool_messages(
    function_tools: List[Tool], builtin_tools: List[Tool], options: BuildOptions
) -> Tuple[List[Format], List[Format]]:
    """The call messages of each function tool and of each builtin tool."""
    function_calls = [
        call
        for tool in function_tools
        for call in _harmony_calls(
            _HARMONY_FUNCTION_HEADERS,
            tool["function"]["name"],
            arguments_schema(tool["function"]),
            options,
        )
    ]
    builtin_calls = [
        call
        for tool in builtin_tools
        for call in _harmony_calls(
            _HARMONY_BUILTIN_HEADERS, builtin_output_name(tool), arguments_schema(tool), options
        )
    ]
    return function_calls, builtin_calls


@model_builder
def build_harmony(
    function_tools: List[Tool],
    builtin_tools: List[Tool],
    tool_choice: str,
    reasoning: str,
    options: BuildOptions,
) -> Format:
    """OpenAI Harmony (gpt-oss): analysis, final and tool-call messages in any sequence.

    Builtin tools are called as ``to=<name> code``. Free text is never
    constrained by special tokens here: the channels delimit everything.
    """
    function_calls, builtin_calls = _harmony_tool_messages(function_tools, builtin_tools, options)
    if tool_choice == "auto":
        messages = [
            *function_calls,
            *builtin_calls,
            tag("<|channel|>final<|message|>", any_text(), _HARMONY_MESSAGE_END),
        ]
    elif tool_choice == "forced":
        # The first tool's messages, a builtin one first; normalization leaves one tool.
        messages = (
            builtin_calls[: len(_HARMONY_BUILTIN_HEADERS)]
            or function_calls[: len(_HARMONY_FUNCTION_HEADERS)]
        )
        if not messages:
            raise UsageError(FORCED_TOOL_ERROR)
    elif tool_choice == "required":
        messages = [*builtin_calls, *function_calls]
        if not messages:
            raise UsageError(REQUIRED_TOOL_ERROR)
    else:
        raise UsageError(f"Unsupported tool choice: {tool_choice}")
    if reasoning != "disabled":
        messages.append(tag("<|channel|>analysis<|message|>", any_text(), _HARMONY_MESSAGE_END))

    calls = [message for message in messages if message["end"] == _HARMONY_CALL_END]
    others = [message for message in messages if message["end"] != _HARMONY_CALL_END]
    if options.parallel_tool_calls or not calls:
        return tags_with_separator(messages, _HARMONY_NEXT_MESSAGE)
    # Analysis and final messages share the stream with calls, so only the calls are
    # capped: any other messages, then at most one call, which ends the turn.
    one_call = tags_with_separator(
        calls, _HARMONY_NEXT_MESSAGE, at_least_one=True, stop_after_first=True
    )
    if not others:
        return optional(one_call)
    return one_of(
        tags_with_separator(others, _HARMONY_NEXT_MESSAGE),
        one_call,
        sequence(
            tags_with_separator(others, _HARMONY_NEXT_MESSAGE, at_least_one=True),
            const_string(_HARMONY_NEXT_MESSAGE),
            one_call,
        ),
    )


_K3_OPEN = "<|open|>"
_K3_CLOSE = "<|close|>"
_K3_SEP = "<|sep|>"
_K3_TOOLS_BEGIN = f"{_K3_OPEN}tools{_K3_SEP}"
_K3_TOOLS_END = f"{_K3_CLOSE}tools{_K3_SEP}"

_K3_CALL = CallSyntax(
    begin=f'{_K3_OPEN}call tool="{{name}}" index="',
    index_then=f'"{_K3_SEP}',
    end=f"{_K3_CLOSE}call{_K3_SEP}",
    style="kimi_k3_xml",
    argument_excludes=(_K3_OPEN, _K3_CLOSE, _K3_SEP),
)
# The generation prompt ends with the first block's opening marker (think, or response
# without reasoning), so the output starts inside that block.
_K3_THINK = ReasoningBlock(
    f"{_K3_OPEN}think{_K3_SEP}", f"{_K3_CLOSE}think{_K3_SEP}", (_K3_OPEN, _K3_CLOSE)
)


@model_builder
def build_kimi_k3(
    function_tools: List[Tool],
    builtin_tools: List[Tool],
    tool_choice: str,
    reasoning: str,
    options: BuildOptions,
) -> Format:
    """Kimi-K3: think, response and tools blocks, then ``<|close|>message<|sep|>``.

    Builtin tools are ignored. Arguments use the ``kimi_k3_xml`` style, one
    ``<|open|>argument ...`` block per key.
    """
    calls = [_K3_CALL.tag(tool["function"], options) for tool in function_tools]
    tools_block: Optional[Format] = None
    if tool_choice == "auto":
        if calls:
            tools_block = optional(
                tag(_K3_TOOLS_BEGIN, call_list(calls, "", options), _K3_TOOLS_END)
            )
    elif tool_choice in ("forced", "required"):
        if not calls:
            raise UsageError(FORCED_TOOL_ERROR if tool_choice == "forced" else REQUIRED_TOOL_ERROR)
        inner = calls[0] if tool_choice == "forced" else call_list(calls, "", options)
        tools_block = sequence(const_string(_K3_TOOLS_BEGIN), inner, const_string(_K3_TOOLS_END))
    else:
        raise UsageError(f"Unsupported tool choice: {tool_choice}")

    think = _K3_THINK.prefix(reasoning, options)
    response = tag(
        "" if reasoning == "disabled" else f"{_K3_OPEN}response{_K3_SEP}",
        any_text(options.special((_K3_OPEN, _K3_CLOSE))),
        f"{_K3_CLOSE}response{_K3_SEP}",
    )
    blocks = [block for block in (think, response, tools_block) if block is not None]
    return sequence(*blocks, const_string(f"{_K3_CLOSE}message{_K3_SEP}"))
