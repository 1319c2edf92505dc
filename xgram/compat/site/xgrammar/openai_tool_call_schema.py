"""OpenAI Chat Completions tool and tool-choice shapes, as pydantic models.

API data types with XGrammar 0.2.9's fields and defaults (which follow the
``openai`` SDK's ``ChatCompletion*Param`` types), used by
:func:`xgrammar.normalize_tool_choice` and :func:`xgrammar.get_model_structural_tag`.
"""

from typing import Any, Dict, List, Literal, Optional, Union

from pydantic import BaseModel


class FunctionDefinition(BaseModel):
    """A function the model may call: its name, description and JSON-schema parameters.

    ``parameters=None`` or ``strict=False`` leaves the arguments unconstrained JSON.
    """

    name: str
    description: Optional[str] = None
    parameters: Optional[Dict[str, Any]] = None
    strict: Optional[bool] = None


class FunctionToolParam(BaseModel):
    """A function tool: ``{"type": "function", "function": {...}}``."""

    type: Literal["function"] = "function"
    function: FunctionDefinition


class BuiltinToolParam(BaseModel):
    """A provider's builtin tool: its ``type``, its name in model output, its arguments' schema."""

    type: str
    name: Optional[str] = None
    parameters: Optional[Dict[str, Any]] = None


ToolParam = Union[FunctionToolParam, BuiltinToolParam]
"""A function tool or a builtin tool."""


class NamedToolChoiceFunction(BaseModel):
    """The function named by a tool choice: ``{"name": ...}``."""

    name: str


class NamedToolChoiceParam(BaseModel):
    """Force one function: ``{"type": "function", "function": {"name": ...}}``."""

    type: Literal["function"] = "function"
    function: NamedToolChoiceFunction


class BuiltinToolChoiceParam(BaseModel):
    """Force one builtin tool, matched by ``type`` (``name`` is accepted and not used)."""

    type: str
    name: Optional[str] = None


class AllowedToolRef(BaseModel):
    """One tool allowed this turn: a function (by ``function.name``) or a builtin (by ``type``)."""

    type: str
    function: Optional[NamedToolChoiceFunction] = None
    name: Optional[str] = None


class AllowedToolsParam(BaseModel):
    """The allowed tools and whether calling one is optional (``auto``) or ``required``."""

    mode: Literal["auto", "required"]
    tools: List[AllowedToolRef]


class AllowedToolChoiceParam(BaseModel):
    """Restrict the tools: ``{"type": "allowed_tools", "allowed_tools": {...}}``."""

    type: Literal["allowed_tools"] = "allowed_tools"
    allowed_tools: AllowedToolsParam


ToolChoiceOptionParam = Union[
    Literal["none", "auto", "required"],
    NamedToolChoiceParam,
    AllowedToolChoiceParam,
    BuiltinToolChoiceParam,
]
"""A tool choice: none, auto, required, a named function or builtin, or allowed tools."""
