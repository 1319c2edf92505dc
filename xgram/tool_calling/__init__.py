"""Structural tags for models' tool-call output, as plain data.

:func:`get_model_structural_tag` describes what a model may write in one
reply (its reasoning block, free text, tool calls in its own syntax with
arguments that follow each tool's JSON schema) as a structural tag in
XGrammar's JSON form: nested dicts such as ``{"type": "structural_tag",
"format": {"type": "triggered_tags", ...}}``. It covers the model templates of
XGrammar 0.2.9 and returns, for the same arguments, a tag equal to XGrammar's
after validation. Tools and tool choices use the OpenAI Chat Completions
shapes; :func:`normalize_tool_choice` exposes that half on its own and
:func:`register_model_structural_tag` adds templates.

Examples
--------
>>> from xgram.tool_calling import get_model_structural_tag
>>> tools = [{"type": "function", "function": {"name": "get_time", "parameters": {}}}]
>>> tag = get_model_structural_tag("qwen_3", tools, reasoning="disabled")
>>> tag["format"]["triggers"]
['<tool_call>']

"""

from ._api import (
    get_builtin_structural_tag,
    get_model_structural_tag,
    register_model_structural_tag,
)
from ._normalize import normalize_tool_choice

__all__ = [
    "get_builtin_structural_tag",
    "get_model_structural_tag",
    "normalize_tool_choice",
    "register_model_structural_tag",
]
