"""Models that gather a turn's tool calls in one section, e.g. ``<tool_calls>...</tool_calls>``.

Free text runs until the section opens; inside it calls follow each other
with a fixed separator and nothing else.
"""

from __future__ import annotations

import dataclasses

from ._inline_families import THINK_TOKENS
from ._template import CallSection, CallSyntax, ReasoningBlock, ToolCallTemplate

_THINK = ReasoningBlock("<think>", "</think>", THINK_TOKENS)

KIMI = ToolCallTemplate(
    call=CallSyntax(
        begin="<|tool_call_begin|>functions.{name}:",
        index_then="<|tool_call_argument_begin|>",
        end="<|tool_call_end|>",
    ),
    section=CallSection(
        begin="<|tool_calls_section_begin|>",
        end="<|tool_calls_section_end|>",
        trigger="<|tool_calls_section_begin|>",
    ),
    text_excludes=(*THINK_TOKENS, "<|tool_call_begin|>"),
    toolless_excludes=THINK_TOKENS,
    forced="wrapped",
    required="wrapped",
    # Kimi-K2's prompt does not open <think>; enabled reasoning keeps accepting it inside.
    reasoning=ReasoningBlock("<think>", "</think>", THINK_TOKENS, enabled_excludes=()),
)

_DEEPSEEK_CALLS = CallSection(
    begin="<｜tool▁calls▁begin｜>", end="<｜tool▁calls▁end｜>", trigger="<｜tool▁calls▁begin｜>"
)

DEEPSEEK_R1 = ToolCallTemplate(
    call=CallSyntax(
        begin="<｜tool▁call▁begin｜>function<｜tool▁sep｜>{name}\n```json\n",
        end="\n```<｜tool▁call▁end｜>",
    ),
    section=dataclasses.replace(_DEEPSEEK_CALLS, separator="\n"),
    text_excludes=THINK_TOKENS,
    toolless_excludes=THINK_TOKENS,
    forced="merged",
    required="section",
    reasoning=_THINK,
)

DEEPSEEK_V3_1 = ToolCallTemplate(
    call=CallSyntax(begin="<｜tool▁call▁begin｜>{name}<｜tool▁sep｜>", end="<｜tool▁call▁end｜>"),
    section=_DEEPSEEK_CALLS,
    text_excludes=THINK_TOKENS,
    toolless_excludes=THINK_TOKENS,
    forced="merged",
    required="section",
    reasoning=_THINK,
)


def _dsml_template(
    invoke: str, calls: str, style: str, *, ends_turn: bool, v4_1: bool = False
) -> ToolCallTemplate:
    """DeepSeek's DSML calls: ``<｜DSML｜{calls}>`` holding ``<｜DSML｜{invoke} name=...>``.

    Each invoke ends with a newline, so consecutive invokes need no separator and the
    last one is followed by one newline before the closing marker, as in the chat template.
    """
    trigger = f"<｜DSML｜{calls}>"
    return ToolCallTemplate(
        call=CallSyntax(
            begin=f'<｜DSML｜{invoke} name="{{name}}">\n', end=f"</｜DSML｜{invoke}>\n", style=style
        ),
        section=CallSection(
            begin=trigger + "\n",
            end=f"</｜DSML｜{calls}>",
            trigger=trigger,
            lead="\n\n",
            ends_turn=ends_turn,
        ),
        text_excludes=THINK_TOKENS,
        toolless_excludes=THINK_TOKENS,
        # V4.1 without tools must not let a calls block through as free text.
        toolless_always_excludes=(trigger,) if v4_1 else (),
        forced="wrapped",
        required="wrapped",
        reasoning=_THINK,
    )


DEEPSEEK_V3_2 = _dsml_template("invoke", "function_calls", "deepseek_xml", ends_turn=False)
# V4 and V4.1 end the assistant turn after one calls block.
DEEPSEEK_V4 = _dsml_template("invoke", "tool_calls", "deepseek_xml", ends_turn=True)
DEEPSEEK_V4_1 = _dsml_template(" invoke", " calls", "deepseek_v4_1_xml", ends_turn=True, v4_1=True)

MINIMAX = ToolCallTemplate(
    call=CallSyntax(begin='<invoke name="{name}">\n', end="</invoke>\n", style="minimax_xml"),
    section=CallSection(
        begin="<minimax:tool_call>\n",
        end="</minimax:tool_call>",
        trigger="<minimax:tool_call>",
        lead="\n",
    ),
    text_excludes=THINK_TOKENS,
    toolless_excludes=THINK_TOKENS,
    forced="wrapped",
    required="wrapped",
    # Without reasoning MiniMax-M2 still writes an empty think block's closing lines.
    reasoning=ReasoningBlock(
        "<think>",
        "</think>",
        THINK_TOKENS,
        enabled_excludes=(),
        suffix="\n\n",
        disabled_text=("\n</think>\n\n", "\n\n"),
    ),
)

_M3 = "]<]minimax[>["
"""MiniMax-M3's namespace prefix, written before every element of its XML."""
# The bare namespace stays allowed: every element and the trigger start with it.
_M3_TEXT_EXCLUDES = (
    "<mm:think>",
    "</mm:think>",
    _M3 + "</tool_call>",
    _M3 + "<invoke",
    _M3 + "</invoke>",
)

MINIMAX_M3 = ToolCallTemplate(
    call=CallSyntax(
        begin=_M3 + '<invoke name="{name}">', end=_M3 + "</invoke>\n", style="minimax_m3_xml"
    ),
    section=CallSection(
        begin=_M3 + "<tool_call>\n", end=_M3 + "</tool_call>", trigger=_M3 + "<tool_call>"
    ),
    text_excludes=_M3_TEXT_EXCLUDES,
    toolless_excludes=(_M3 + "<tool_call>", *_M3_TEXT_EXCLUDES),
    forced="section",
    required="triggered",
    # The adaptive prompt writes a lone </mm:think> when the model skips reasoning.
    reasoning=ReasoningBlock(
        "<mm:think>",
        "</mm:think>",
        (_M3 + "<tool_call>", *_M3_TEXT_EXCLUDES),
        auto_may_close_only=True,
    ),
    builtin_error="MiniMax M3 does not support builtin tools.",
)

_COHERE_THINK_TOKENS = ("<|START_THINKING|>", "<|END_THINKING|>")

COHERE = ToolCallTemplate(
    # The call index comes before the name: <cofl:tool_call id="0" name="f">.
    call=CallSyntax(
        begin='<cofl:tool_call id="',
        index_then='" name="{name}">',
        end="</cofl:tool_call>",
        style="cohere_xml",
    ),
    section=CallSection(
        begin="<cofl:tool_calls>", end="</cofl:tool_calls>", trigger="<cofl:tool_calls>"
    ),
    text_excludes=_COHERE_THINK_TOKENS,
    toolless_excludes=_COHERE_THINK_TOKENS,
    forced="wrapped",
    required="wrapped",
    reasoning=ReasoningBlock(
        "<|START_THINKING|>", "<|END_THINKING|>", _COHERE_THINK_TOKENS, enabled_excludes=()
    ),
)
