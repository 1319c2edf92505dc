"""Tool-calling structural tags: model templates, the registry and tool-choice handling.

Every function maps onto :mod:`xgram.tool_calling`, which builds XGrammar 0.2.9's
structural tags as plain dicts; here tools become the pydantic models of
:mod:`xgrammar.openai_tool_call_schema` and tags become
:class:`~xgrammar.StructuralTag`, as XGrammar returns them. Errors are
``ValueError``s, as XGrammar's.
"""

from typing import Any, Callable, Dict, List, Literal, Optional, Tuple, Union

from xgram import tool_calling
from xgram.tool_calling import _api as _xgram_registry

from .openai_tool_call_schema import (
    BuiltinToolParam,
    FunctionToolParam,
    ToolChoiceOptionParam,
    ToolParam,
)
from .structural_tag import StructuralTag

SimplifiedToolChoice = Literal["auto", "required", "forced"]
"""A tool choice as templates see it: optional tools, at least one tool, or exactly one tool."""

BuiltinStructuralTagFn = Callable[..., StructuralTag]
"""A model template: ``(tools, builtin_tools, tool_choice, reasoning, **options)``."""

_ReasoningMode = Literal["enabled", "disabled", "auto"]

# xgram's builders of XGrammar's own templates, taken before any registration
# through this module can replace them: get_llama_structural_tag and the others
# are those templates, whatever "llama" is registered as later.
_XGRAM_TEMPLATES: Dict[str, Callable[..., Any]] = dict(_xgram_registry._builders)


def get_model_structural_tag(
    model: str,
    tools: Optional[List[Union[ToolParam, dict]]] = None,
    tool_choice: Union[ToolChoiceOptionParam, dict, None] = "auto",
    reasoning: Union[bool, Literal["enabled", "disabled", "auto"]] = "enabled",
    force_reasoning: bool = False,
    any_order: bool = False,
    exclude_special_tokens: bool = True,
    max_whitespace_cnt: Optional[int] = None,
    parallel_tool_calls: bool = True,
    token_markers: bool = False,
) -> StructuralTag:
    """The structural tag of ``model``'s reasoning and tool-call output for these tools.

    Arguments as :func:`xgram.tool_calling.get_model_structural_tag`, which
    builds the tag; tools and tool choices may be pydantic models or dicts.

    Raises
    ------
    ValueError
        For an unknown template, invalid tools, tool choice or setting.

    """
    tag = tool_calling.get_model_structural_tag(
        model,
        tools,
        _plain(tool_choice),
        reasoning,
        force_reasoning,
        any_order,
        exclude_special_tokens,
        max_whitespace_cnt,
        parallel_tool_calls,
        token_markers,
    )
    return StructuralTag.model_validate(tag)


get_builtin_structural_tag = get_model_structural_tag


def normalize_tool_choice(
    tools: Optional[List[Union[ToolParam, dict]]] = None,
    tool_choice: Union[ToolChoiceOptionParam, dict, None] = "auto",
) -> Tuple[List[FunctionToolParam], List[BuiltinToolParam], SimplifiedToolChoice]:
    """Validate tools and a tool choice; reduce the choice to ``auto``/``required``/``forced``.

    See :func:`xgram.tool_calling.normalize_tool_choice`.

    Returns
    -------
    (function_tools, builtin_tools, simplified_tool_choice)

    """
    functions, builtins, choice = tool_calling.normalize_tool_choice(tools, _plain(tool_choice))
    return _function_models(functions), _builtin_models(builtins), choice


def register_model_structural_tag(
    name: str, *, marker_tokens: Optional[List[str]] = None
) -> Callable[[BuiltinStructuralTagFn], BuiltinStructuralTagFn]:
    """Decorator registering a model template under ``name`` for :func:`get_model_structural_tag`.

    The template is called as in XGrammar: ``template(function_tools,
    builtin_tools, tool_choice, reasoning, *, any_order,
    exclude_special_tokens, max_whitespace_cnt, parallel_tool_calls)`` with
    lists of :class:`FunctionToolParam` and :class:`BuiltinToolParam`, and
    returns a :class:`~xgrammar.StructuralTag`.
    """

    def register(template: BuiltinStructuralTagFn) -> BuiltinStructuralTagFn:
        def builder(
            function_tools: List[Dict[str, Any]],
            builtin_tools: List[Dict[str, Any]],
            tool_choice: str,
            reasoning: str,
            **options: Any,
        ) -> Any:
            return template(
                _function_models(function_tools),
                _builtin_models(builtin_tools),
                tool_choice,
                reasoning,
                **options,
            )

        tool_calling.register_model_structural_tag(name, marker_tokens=marker_tokens)(builder)
        return template

    return register


def _plain(value: Any) -> Any:
    """A pydantic tool choice as its dict; anything else unchanged."""
    return value.model_dump() if hasattr(value, "model_dump") else value


def _function_models(tools: List[Dict[str, Any]]) -> List[FunctionToolParam]:
    return [FunctionToolParam.model_validate(tool) for tool in tools]


def _builtin_models(tools: List[Dict[str, Any]]) -> List[BuiltinToolParam]:
    return [BuiltinToolParam.model_validate(tool) for tool in tools]


def _template_function(
    model: str, function_name: str, default_reasoning: _ReasoningMode = "enabled"
) -> BuiltinStructuralTagFn:
    """XGrammar's ``function_name``: the ``model`` template, called directly."""
    xgram_template = _XGRAM_TEMPLATES[model]

    def template(
        tools: Optional[List[FunctionToolParam]] = None,
        builtin_tools: Optional[List[BuiltinToolParam]] = None,
        tool_choice: SimplifiedToolChoice = "auto",
        reasoning: _ReasoningMode = default_reasoning,
        any_order: bool = False,
        exclude_special_tokens: bool = True,
        max_whitespace_cnt: Optional[int] = None,
        parallel_tool_calls: bool = True,
        **kwargs: Any,
    ) -> StructuralTag:
        tag = xgram_template(
            [_plain(tool) for tool in tools or []],
            [_plain(tool) for tool in builtin_tools or []],
            tool_choice,
            reasoning,
            any_order=any_order,
            exclude_special_tokens=exclude_special_tokens,
            max_whitespace_cnt=max_whitespace_cnt,
            parallel_tool_calls=parallel_tool_calls,
        )
        return StructuralTag.model_validate(tag)

    template.__name__ = template.__qualname__ = function_name
    template.__doc__ = f"XGrammar's {model!r} tool-call template (built by xgram.tool_calling)."
    return template


get_llama_structural_tag = _template_function("llama", "get_llama_structural_tag")
get_kimi_structural_tag = _template_function("kimi", "get_kimi_structural_tag")
get_kimi_k3_structural_tag = _template_function("kimi_k3", "get_kimi_k3_structural_tag")
get_deepseek_r1_structural_tag = _template_function("deepseek_r1", "get_deepseek_r1_structural_tag")
get_deepseek_v3_1_structural_tag = _template_function(
    "deepseek_v3_1", "get_deepseek_v3_1_structural_tag"
)
get_qwen_3_5_structural_tag = _template_function("qwen_3_5", "get_qwen_3_5_structural_tag")
get_qwen_3_coder_structural_tag = _template_function(
    "qwen_3_coder", "get_qwen_3_coder_structural_tag"
)
get_mimo_structural_tag = _template_function("mimo", "get_mimo_structural_tag")
get_qwen_3_structural_tag = _template_function("qwen_3", "get_qwen_3_structural_tag")
get_harmony_structural_tag = _template_function("harmony", "get_harmony_structural_tag")
get_deepseek_v3_2_structural_tag = _template_function(
    "deepseek_v3_2", "get_deepseek_v3_2_structural_tag"
)
get_minimax_structural_tag = _template_function("minimax", "get_minimax_structural_tag")
get_minimax_m3_structural_tag = _template_function(
    "minimax_m3", "get_minimax_m3_structural_tag", default_reasoning="auto"
)
get_glm_4_7_structural_tag = _template_function("glm_4_7", "get_glm_4_7_structural_tag")
get_gemma_4_structural_tag = _template_function("gemma_4", "get_gemma_4_structural_tag")
get_deepseek_v4_structural_tag = _template_function("deepseek_v4", "get_deepseek_v4_structural_tag")
get_deepseek_v4_1_structural_tag = _template_function(
    "deepseek_v4_1", "get_deepseek_v4_1_structural_tag"
)
get_cohere_structural_tag = _template_function("cohere", "get_cohere_structural_tag")
get_exaone_structural_tag = _template_function("exaone", "get_exaone_structural_tag")
