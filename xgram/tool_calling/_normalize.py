"""Tools and tool choice in the OpenAI Chat Completions shape, checked and simplified.

A function tool comes back as ``{"type": "function", "function": {"name",
"description", "parameters", "strict"}}`` and a builtin (hosted) tool as
``{"type", "name", "parameters"}``, every key present, so the model templates
read them without defaults. These are the ``model_dump()`` forms of XGrammar's
``FunctionToolParam`` and ``BuiltinToolParam``.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Literal, Mapping, Optional, Tuple, Union

from ..errors import UsageError

Tool = Dict[str, Any]
"""A normalized function or builtin tool (see the module docstring)."""

SimplifiedToolChoice = Literal["auto", "required", "forced"]
"""What a model template must allow: text or calls, at least one call, or the one tool left."""

_CHOICE_WORDS = ("none", "auto", "required")


def _plain(value: Any) -> Any:
    """Turn a pydantic model (anything with ``model_dump()``) into its dict; keep the rest."""
    model_dump = getattr(value, "model_dump", None)
    return model_dump() if callable(model_dump) else value


def _optional_of(kind: type, value: Any, where: str) -> Any:
    if value is not None and not isinstance(value, kind):
        raise UsageError(f"{where} must be a {kind.__name__} or None, got {value!r}")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    value = _plain(value)
    if not isinstance(value, Mapping):
        raise UsageError(f"{where} must be a dict, got {type(value).__name__}")
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{where} must be a string, got {value!r}")
    return value


def _schema(value: Any, where: str) -> Optional[Dict[str, Any]]:
    # Copied so the structural tag never shares a schema object with the caller.
    return copy.deepcopy(_optional_of(dict, value, where))


def _normalize_tool(raw: Any, where: str) -> Tool:
    tool = _mapping(raw, where)
    tool_type = tool.get("type", "function")
    if tool_type == "function":
        if "function" not in tool:
            raise UsageError(
                f"{where} is a function tool without a 'function' object; use the Chat "
                "Completions shape {'type': 'function', 'function': {'name': ..., "
                "'parameters': ...}}"
            )
        function = _mapping(tool["function"], f"{where}.function")
        return {
            "type": "function",
            "function": {
                "name": _name(function.get("name"), f"{where}.function.name"),
                "description": _optional_of(
                    str, function.get("description"), f"{where}.function.description"
                ),
                "parameters": _schema(function.get("parameters"), f"{where}.function.parameters"),
                "strict": _optional_of(bool, function.get("strict"), f"{where}.function.strict"),
            },
        }
    return {
        "type": _name(tool_type, f"{where}.type"),
        "name": _optional_of(str, tool.get("name"), f"{where}.name"),
        "parameters": _schema(tool.get("parameters"), f"{where}.parameters"),
    }


def arguments_schema(definition: Mapping[str, Any]) -> Union[bool, Dict[str, Any]]:
    """The schema that constrains a call's arguments: ``True`` (any JSON) when unconstrained.

    A function definition with ``strict=False`` or without ``parameters``, and a
    builtin tool without ``parameters``, leave their arguments free.
    """
    if definition.get("strict") is False or definition.get("parameters") is None:
        return True
    return definition["parameters"]


def builtin_output_name(tool: Tool) -> str:
    """The name a builtin tool has in model output: its ``name``, else its ``type``."""
    return tool["name"] or tool["type"]


def _filter_allowed(
    function_tools: List[Tool], builtin_tools: List[Tool], allowed: Mapping[str, Any]
) -> Tuple[List[Tool], List[Tool]]:
    allowed_names = set()
    allowed_types = set()
    for index, raw_ref in enumerate(allowed["tools"]):
        ref = _mapping(raw_ref, f"tool_choice.allowed_tools.tools[{index}]")
        ref_type = _name(ref.get("type"), f"tool_choice.allowed_tools.tools[{index}].type")
        if ref_type != "function":
            allowed_types.add(ref_type)
            continue
        if ref.get("function") is None:
            raise UsageError("Allowed function tool references must include 'function'.")
        function = _mapping(ref["function"], f"tool_choice.allowed_tools.tools[{index}].function")
        allowed_names.add(
            _name(function.get("name"), f"tool_choice.allowed_tools.tools[{index}].function.name")
        )

    missing_names = allowed_names - {tool["function"]["name"] for tool in function_tools}
    if missing_names:
        raise UsageError(
            f"Allowed function tools are not found in the tools list: {missing_names}."
        )
    kept_builtins = [tool for tool in builtin_tools if tool["type"] in allowed_types]
    missing_types = allowed_types - {tool["type"] for tool in kept_builtins}
    if missing_types:
        raise UsageError(f"Allowed builtin tools are not found in the tools list: {missing_types}.")
    kept_functions = [tool for tool in function_tools if tool["function"]["name"] in allowed_names]
    return kept_functions, kept_builtins


def _parse_tool_choice(tool_choice: Any) -> Union[str, Mapping[str, Any]]:
    """Check the shape of ``tool_choice``: one of the words, or a dict with a ``type``."""
    if tool_choice is None:
        return "auto"
    if isinstance(tool_choice, str):
        if tool_choice not in _CHOICE_WORDS:
            raise UsageError(
                f"tool_choice must be 'none', 'auto', 'required' or a dict, got {tool_choice!r}"
            )
        return tool_choice
    choice = _mapping(tool_choice, "tool_choice")
    choice_type = choice.get("type", "function" if "function" in choice else None)
    _name(choice_type, "tool_choice.type")
    if choice_type == "function" and not isinstance(_plain(choice.get("function")), Mapping):
        raise UsageError(
            "tool_choice of type 'function' needs {'function': {'name': ...}} (the Chat "
            f"Completions shape), got {dict(choice)!r}"
        )
    if choice_type == "allowed_tools":
        allowed = _plain(choice.get("allowed_tools"))
        if not (
            isinstance(allowed, Mapping)
            and allowed.get("mode") in ("auto", "required")
            and isinstance(allowed.get("tools"), list)
        ):
            raise UsageError(
                "tool_choice of type 'allowed_tools' needs {'allowed_tools': {'mode': 'auto' "
                f"or 'required', 'tools': [...]}}, got {dict(choice)!r}"
            )
    return {**choice, "type": choice_type}


def normalize_tool_choice(
    tools: Optional[List[Any]] = None, tool_choice: Any = "auto"
) -> Tuple[List[Tool], List[Tool], SimplifiedToolChoice]:
    """Split ``tools`` into function and builtin tools and simplify ``tool_choice``.

    The model-independent half of :func:`get_model_structural_tag`, for
    serving engines that write their own model templates.

    Parameters
    ----------
    tools : list, optional
        Function tools (``{"type": "function", "function": {...}}``) and
        builtin tools (``{"type": ..., "name": ..., "parameters": ...}``), as
        dicts or pydantic models. ``None`` means no tools.
    tool_choice : str, dict or None
        ``"auto"`` (also ``None``), ``"none"`` (drops every tool),
        ``"required"``, ``{"type": "function", "function": {"name": ...}}``
        (that function), ``{"type": <builtin type>}`` (that builtin tool) or
        ``{"type": "allowed_tools", "allowed_tools": {"mode": ..., "tools":
        [...]}}`` (those tools, then ``mode``).

    Returns
    -------
    tuple
        ``(function_tools, builtin_tools, choice)``: normalized tool dicts and
        ``"auto"``, ``"required"`` or ``"forced"`` (exactly one tool is left).

    Raises
    ------
    xgram.UsageError
        (a ``ValueError``) for a malformed tool or choice, a named tool that is
        not in ``tools``, ``"required"`` with no tools, or a forced choice that
        does not leave exactly one tool. The messages of the checks XGrammar
        also makes are XGrammar's.

    """
    if tools is None:
        tools = []
    if not isinstance(tools, list):
        raise UsageError("The 'tools' argument must be a list.")
    normalized = [_normalize_tool(tool, f"tools[{index}]") for index, tool in enumerate(tools)]
    function_tools = [tool for tool in normalized if tool["type"] == "function"]
    builtin_tools = [tool for tool in normalized if tool["type"] != "function"]

    choice = _parse_tool_choice(tool_choice)
    simplified: SimplifiedToolChoice
    if choice == "none":
        # Auto with no tools is text only in every template.
        function_tools, builtin_tools, simplified = [], [], "auto"
    elif isinstance(choice, str):
        simplified = "required" if choice == "required" else "auto"
    elif choice["type"] == "allowed_tools":
        allowed = _plain(choice["allowed_tools"])
        function_tools, builtin_tools = _filter_allowed(function_tools, builtin_tools, allowed)
        simplified = allowed["mode"]
    elif choice["type"] == "function":
        name = _name(_plain(choice["function"]).get("name"), "tool_choice.function.name")
        function_tools = [tool for tool in function_tools if tool["function"]["name"] == name]
        if not function_tools:
            raise UsageError(f"The tool with name '{name}' is not found in the tools list.")
        builtin_tools, simplified = [], "forced"
    else:
        builtin_tools = [tool for tool in builtin_tools if tool["type"] == choice["type"]]
        if len(builtin_tools) != 1:
            raise UsageError(
                "Builtin tool choice must match exactly one builtin tool, "
                f"got {len(builtin_tools)} matches."
            )
        function_tools, simplified = [], "forced"

    if simplified == "required" and not function_tools and not builtin_tools:
        raise UsageError(
            "The 'tools' list is empty, which is not allowed when 'tool_choice' is 'required'."
        )
    if simplified == "forced" and len(function_tools) + len(builtin_tools) != 1:
        raise UsageError("Forced tool choice must resolve to exactly one tool.")
    return function_tools, builtin_tools, simplified
