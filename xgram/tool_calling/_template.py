"""The shared shape of model tool-call templates, and the builder that reads it.

Most models write a tool call as ``<begin with the tool's name>arguments<end>``
and differ only in the strings, in the argument dialect (JSON or an XML
style), in whether calls sit inside a section (``<tool_calls>...</tool_calls>``)
and in how a reasoning block opens and closes. :class:`ToolCallTemplate` holds
those facts; :func:`build_from_template` turns a template, the tools and the
tool choice into a structural-tag format. Models whose output is a stream of
messages (Harmony, Kimi-K3) have builders of their own that reuse the pieces.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Literal, Mapping, Optional, Tuple

from ..errors import UsageError
from ._formats import (
    Format,
    any_text,
    const_string,
    json_schema,
    one_of,
    optional,
    regex,
    sequence,
    structural_tag,
    tag,
    tags_with_separator,
    triggered_tags,
)
from ._normalize import Tool, arguments_schema

NAME = "{name}"
"""Stands for the tool's name in :class:`CallSyntax` strings."""

ReasoningMode = Literal["enabled", "disabled", "auto"]
REASONING_MODES = ("enabled", "disabled", "auto")

FORCED_TOOL_ERROR = "Forced tool choice must resolve to exactly one tool."
REQUIRED_TOOL_ERROR = "Required tool choice needs at least one function tool."


@dataclass(frozen=True)
class BuildOptions:
    """The caller's settings that every template applies."""

    any_order: bool = False
    max_whitespace_cnt: Optional[int] = None
    exclude_special_tokens: bool = True
    parallel_tool_calls: bool = True

    def special(self, tokens: Iterable[str]) -> List[str]:
        """``tokens`` to forbid in free text, or none when special tokens are allowed."""
        return list(tokens) if self.exclude_special_tokens else []

    def arguments(self, schema: Any, style: str = "json", excludes: Iterable[str] = ()) -> Format:
        """The format of a call's arguments under these settings."""
        return json_schema(
            schema,
            style=style,
            any_order=self.any_order,
            max_whitespace_cnt=self.max_whitespace_cnt,
            excludes=self.special(excludes),
        )


@dataclass(frozen=True)
class CallSyntax:
    """How one tool call is written; ``{name}`` in a string stands for the tool's name.

    Attributes
    ----------
    begin, end : str
        The text before and after the arguments.
    style : str
        The argument dialect (``"json"``, ``"qwen_xml"``, ...).
    index_then : str or None
        When set, ``begin`` is followed by a call index (digits) and this text
        before the arguments.
    argument_excludes : tuple of str
        Special tokens forbidden inside argument strings and keys.

    """

    begin: str
    end: str
    style: str = "json"
    index_then: Optional[str] = None
    argument_excludes: Tuple[str, ...] = ()

    def content(self, function: Mapping[str, Any], options: BuildOptions) -> Format:
        """Everything between ``begin`` and ``end`` for ``function``."""
        arguments = options.arguments(
            arguments_schema(function), self.style, self.argument_excludes
        )
        if self.index_then is None:
            return arguments
        index_then = self.index_then.replace(NAME, function["name"])
        return sequence(regex(r"\d+"), const_string(index_then), arguments)

    def tag(self, function: Mapping[str, Any], options: BuildOptions) -> Format:
        """The tag of one call of ``function``."""
        begin = self.begin.replace(NAME, function["name"])
        return tag(begin, self.content(function, options), self.end)


@dataclass(frozen=True)
class CallSection:
    """The block that holds a turn's tool calls, e.g. ``<tool_calls>...</tool_calls>``.

    Attributes
    ----------
    begin, end : str
        The block's opening and closing text.
    trigger : str
        The prefix of ``begin`` that free text switches on.
    separator : str
        The text between two calls.
    lead : str
        Text written before ``begin`` when the block is mandatory.
    ends_turn : bool
        The turn ends after one block, even when parallel calls are allowed.

    """

    begin: str
    end: str
    trigger: str
    separator: str = ""
    lead: str = ""
    ends_turn: bool = False


@dataclass(frozen=True)
class ReasoningBlock:
    """A leading reasoning block such as ``<think>...</think>``.

    Attributes
    ----------
    begin, end : str
        The block's markers.
    excludes : tuple of str
        Special tokens forbidden inside the reasoning.
    enabled_excludes : tuple of str or None
        Replaces ``excludes`` when reasoning is ``"enabled"``.
    opened_by_prompt : bool
        With reasoning enabled, the generation prompt already ends with
        ``begin``, so the output starts inside the block.
    suffix : str
        Text the model writes after ``end``.
    disabled_text : tuple of str
        Text the model writes first when reasoning is disabled.
    auto_may_close_only : bool
        With ``"auto"``, a lone ``end`` may stand for a skipped block.

    """

    begin: str
    end: str
    excludes: Tuple[str, ...] = ()
    enabled_excludes: Optional[Tuple[str, ...]] = None
    opened_by_prompt: bool = True
    suffix: str = ""
    disabled_text: Tuple[str, ...] = ()
    auto_may_close_only: bool = False

    def prefix(self, mode: str, options: BuildOptions) -> Optional[Format]:
        """The block for ``mode``: required, optional (``"auto"``) or absent."""
        if mode not in REASONING_MODES:
            raise UsageError(
                "The 'reasoning_mode' argument must be one of: 'enabled', 'disabled', 'auto'."
            )
        if mode == "disabled":
            return None
        excludes = self.excludes
        if mode == "enabled" and self.enabled_excludes is not None:
            excludes = self.enabled_excludes
        begin = "" if mode == "enabled" and self.opened_by_prompt else self.begin
        block = tag(begin, any_text(options.special(excludes)), self.end)
        if self.suffix:
            block = sequence(block, const_string(self.suffix))
        if mode == "auto":
            if self.auto_may_close_only:
                block = one_of(block, const_string(self.end))
            block = optional(block)
        return block

    def before(self, body: Format, mode: str, options: BuildOptions) -> Format:
        """``body`` preceded by what ``mode`` asks the model to write first."""
        block = self.prefix(mode, options)
        if block is not None:
            return sequence(block, body)
        if self.disabled_text:
            return sequence(*(const_string(text) for text in self.disabled_text), body)
        return body


@dataclass(frozen=True)
class ToolCallTemplate:
    """A model's tool-call output format.

    Attributes
    ----------
    call : CallSyntax
        How one call is written.
    trigger : str
        The text that opens a call in free text (unused with ``section``).
    section : CallSection or None
        The block around the calls, when the model writes one.
    text_excludes : tuple of str
        Special tokens forbidden in free text around calls.
    toolless_excludes : tuple of str
        Special tokens forbidden in the reply when no tool is available.
    toolless_always_excludes : tuple of str
        Forbidden in the reply without tools even when special tokens are allowed.
    forced : str
        One forced call is ``"call"`` (the call tag alone), ``"merged"`` (the
        section's text folded into the call tag), ``"wrapped"`` (the section as
        literal text around it) or ``"section"`` (a section tag holding it).
    required : str
        At least one call is ``"triggered"`` (free text that must reach a call),
        ``"wrapped"`` (a literal section) or ``"section"`` (a section tag).
    reasoning : ReasoningBlock or None
        The leading reasoning block, when the model has one.
    builtin_error : str or None
        When set, builtin tools are rejected with this message.

    """

    call: CallSyntax
    trigger: str = ""
    section: Optional[CallSection] = None
    text_excludes: Tuple[str, ...] = ()
    toolless_excludes: Tuple[str, ...] = ()
    toolless_always_excludes: Tuple[str, ...] = ()
    forced: Literal["call", "merged", "wrapped", "section"] = "call"
    required: Literal["triggered", "wrapped", "section"] = "triggered"
    reasoning: Optional[ReasoningBlock] = None
    builtin_error: Optional[str] = None


def call_list(calls: List[Format], separator: str, options: BuildOptions) -> Format:
    """One or more calls joined by ``separator``, or exactly one without parallel calls."""
    return tags_with_separator(
        calls, separator, at_least_one=True, stop_after_first=not options.parallel_tool_calls
    )


def _section_units(
    template: ToolCallTemplate, calls: List[Format], options: BuildOptions
) -> Tuple[str, List[Format]]:
    """The tags free text switches into: each call, or one section holding the calls."""
    section = template.section
    if section is None:
        return template.trigger, calls
    calls_in_section = call_list(calls, section.separator, options)
    return section.trigger, [tag(section.begin, calls_in_section, section.end)]


def _forced_body(template: ToolCallTemplate, call: Format) -> Format:
    section = template.section
    if template.forced == "call" or section is None:
        return call
    if template.forced == "merged":
        return tag(section.begin + call["begin"], call["content"], call["end"] + section.end)
    if template.forced == "section":
        return tag(section.begin, call, section.end)
    return sequence(const_string(section.lead + section.begin), call, const_string(section.end))


def _required_body(
    template: ToolCallTemplate, calls: List[Format], options: BuildOptions
) -> Format:
    section = template.section
    if template.required == "triggered" or section is None:
        trigger, units = _section_units(template, calls, options)
        return triggered_tags(
            [trigger],
            units,
            excludes=options.special(template.text_excludes),
            at_least_one=True,
            stop_after_first=not options.parallel_tool_calls,
        )
    calls_in_section = call_list(calls, section.separator, options)
    if template.required == "section":
        return tag(section.begin, calls_in_section, section.end)
    return sequence(
        const_string(section.lead + section.begin), calls_in_section, const_string(section.end)
    )


def _auto_body(template: ToolCallTemplate, calls: List[Format], options: BuildOptions) -> Format:
    if not calls:
        excludes = options.special(template.toolless_excludes)
        return any_text([*excludes, *template.toolless_always_excludes])
    trigger, units = _section_units(template, calls, options)
    ends_turn = template.section is not None and template.section.ends_turn
    return triggered_tags(
        [trigger],
        units,
        excludes=options.special(template.text_excludes),
        stop_after_first=ends_turn or not options.parallel_tool_calls,
    )


def build_from_template(
    template: ToolCallTemplate,
    function_tools: List[Tool],
    builtin_tools: List[Tool],
    tool_choice: str,
    reasoning: str,
    options: BuildOptions,
) -> Format:
    """The format a model following ``template`` must produce.

    Builtin tools are ignored (or rejected, see ``builtin_error``): these
    models only call functions.
    """
    if template.builtin_error and builtin_tools:
        raise UsageError(template.builtin_error)
    calls = [template.call.tag(tool["function"], options) for tool in function_tools]
    if tool_choice == "forced":
        if not calls:
            raise UsageError(FORCED_TOOL_ERROR)
        body = _forced_body(template, calls[0])
    elif tool_choice == "required":
        if not calls:
            raise UsageError(REQUIRED_TOOL_ERROR)
        body = _required_body(template, calls, options)
    elif tool_choice == "auto":
        body = _auto_body(template, calls, options)
    else:
        raise UsageError(f"Unsupported tool choice: {tool_choice}")
    if template.reasoning is None:
        return body
    return template.reasoning.before(body, reasoning, options)


ModelBuilder = Callable[..., Format]
"""A registered template: ``(function_tools, builtin_tools, tool_choice, reasoning, *,
any_order, exclude_special_tokens, max_whitespace_cnt, parallel_tool_calls)`` to a
structural tag."""


def model_builder(
    build: Callable[[List[Tool], List[Tool], str, str, BuildOptions], Format],
) -> ModelBuilder:
    """Give ``build`` the calling convention of the registry (XGrammar's keywords)."""

    @functools.wraps(build)
    def builder(
        function_tools: Optional[List[Tool]] = None,
        builtin_tools: Optional[List[Tool]] = None,
        tool_choice: str = "auto",
        reasoning: str = "enabled",
        *,
        any_order: bool = False,
        exclude_special_tokens: bool = True,
        max_whitespace_cnt: Optional[int] = None,
        parallel_tool_calls: bool = True,
        **unused: Any,
    ) -> Format:
        options = BuildOptions(
            any_order=any_order,
            max_whitespace_cnt=max_whitespace_cnt,
            exclude_special_tokens=exclude_special_tokens,
            parallel_tool_calls=parallel_tool_calls,
        )
        body = build(function_tools or [], builtin_tools or [], tool_choice, reasoning, options)
        return structural_tag(body)

    return builder


def template_builder(template: ToolCallTemplate) -> ModelBuilder:
    """The registry builder of ``template``."""
    return model_builder(functools.partial(build_from_template, template))
