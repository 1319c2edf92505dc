"""Models whose tool calls stand alone in the text: ``<tool_call>...</tool_call>`` and kin.

Free text runs until a call's opening text appears; each call is one tag, and
several calls follow each other with free text between them.
"""

from __future__ import annotations

from ._template import CallSyntax, ReasoningBlock, ToolCallTemplate

THINK_TOKENS = ("<think>", "</think>")

# Qwen's chat template puts a blank line after </think>.
_QWEN_THINK = ReasoningBlock("<think>", "</think>", THINK_TOKENS, suffix="\n\n")

LLAMA = ToolCallTemplate(
    # Llama 3.x writes a bare JSON object; it has no reasoning block.
    call=CallSyntax(begin='{"name": "{name}", "parameters": ', end="}"),
    trigger='{"name": ',
    text_excludes=THINK_TOKENS,
    toolless_excludes=THINK_TOKENS,
)

QWEN_3 = ToolCallTemplate(
    call=CallSyntax(begin='<tool_call>\n{"name": "{name}", "arguments": ', end="}\n</tool_call>"),
    trigger="<tool_call>",
    text_excludes=THINK_TOKENS,
    toolless_excludes=THINK_TOKENS,
    reasoning=_QWEN_THINK,
)

QWEN_3_5 = ToolCallTemplate(
    # Qwen3.5 and Qwen3-Coder: <parameter=key>value</parameter> inside <function=name>.
    call=CallSyntax(
        begin="<tool_call>\n<function={name}>\n",
        end="\n</function>\n</tool_call>",
        style="qwen_xml",
    ),
    trigger="<tool_call>\n<function=",
    text_excludes=THINK_TOKENS,
    toolless_excludes=THINK_TOKENS,
    reasoning=_QWEN_THINK,
)

_MIMO_TEXT_EXCLUDES = ("<think>", "</think>", "</tool_call>", "<function=")

MIMO = ToolCallTemplate(
    # Qwen's XML parameters without the newlines between the wrappers. The prompt does not
    # open <think>, and no tool call may start inside the reasoning.
    call=CallSyntax(
        begin="<tool_call><function={name}>", end="</function></tool_call>", style="qwen_xml"
    ),
    trigger="<tool_call>",
    text_excludes=_MIMO_TEXT_EXCLUDES,
    toolless_excludes=("<tool_call>", *_MIMO_TEXT_EXCLUDES),
    reasoning=ReasoningBlock(
        "<think>", "</think>", ("<tool_call>", *_MIMO_TEXT_EXCLUDES), opened_by_prompt=False
    ),
    builtin_error="MiMo does not support builtin tools.",
)

EXAONE = ToolCallTemplate(
    call=CallSyntax(begin='<tool_call>{"name": "{name}", "arguments": ', end="}</tool_call>"),
    trigger="<tool_call>",
    text_excludes=THINK_TOKENS,
    toolless_excludes=THINK_TOKENS,
    # The prompt opens <think>, so inside the block a stray <think> is not excluded.
    reasoning=ReasoningBlock(
        "<think>", "</think>", THINK_TOKENS, enabled_excludes=(), suffix="\n\n"
    ),
)

_GLM_ARGUMENT_TOKENS = ("<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>")
# GLM's control tokens are only valid inside a call; free text may still open one.
_GLM_TEXT_EXCLUDES = (*THINK_TOKENS, "</tool_call>", *_GLM_ARGUMENT_TOKENS)
_GLM_REASONING_EXCLUDES = (*THINK_TOKENS, "<tool_call>", "</tool_call>", *_GLM_ARGUMENT_TOKENS)

GLM_4_7 = ToolCallTemplate(
    call=CallSyntax(begin="<tool_call>{name}", end="</tool_call>", style="glm_xml"),
    trigger="<tool_call>",
    text_excludes=_GLM_TEXT_EXCLUDES,
    toolless_excludes=_GLM_REASONING_EXCLUDES,
    reasoning=ReasoningBlock("<think>", "</think>", _GLM_REASONING_EXCLUDES),
)

GLM_4_7_MARKERS = ("<think>", "</think>", "<tool_call>", "</tool_call>", *_GLM_ARGUMENT_TOKENS)
QWEN_MARKERS = ("<think>", "</think>", "<tool_call>", "</tool_call>")

_GEMMA_CHANNEL_TOKENS = ("<|channel>", "<channel|>")
# <|tool_call> is the trigger, so free text beside tools keeps it; without tools (and in
# the thought channel) it is excluded, since a call there would have free arguments.
_GEMMA_TOOLLESS_EXCLUDES = (*_GEMMA_CHANNEL_TOKENS, "<|tool_call>")

GEMMA_4 = ToolCallTemplate(
    call=CallSyntax(
        begin="<|tool_call>call:{name}",
        end="<tool_call|>",
        style="gemma",
        # A control marker inside an argument string would end the call at the parser.
        argument_excludes=(*_GEMMA_CHANNEL_TOKENS, "<|tool_call>", "<tool_call|>"),
    ),
    trigger="<|tool_call>",
    text_excludes=_GEMMA_CHANNEL_TOKENS,
    toolless_excludes=_GEMMA_TOOLLESS_EXCLUDES,
    reasoning=ReasoningBlock(
        "<|channel>thought\n", "<channel|>", _GEMMA_TOOLLESS_EXCLUDES, opened_by_prompt=False
    ),
)
