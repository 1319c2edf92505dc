"""The registry of model templates and :func:`get_model_structural_tag`."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ..errors import UsageError
from . import _inline_families as inline
from . import _section_families as section
from ._formats import Format
from ._markers import bind_marker_tokens
from ._message_families import build_harmony, build_kimi_k3
from ._normalize import normalize_tool_choice
from ._template import REASONING_MODES, ModelBuilder, template_builder

_builders: Dict[str, ModelBuilder] = {}
_marker_tokens: Dict[str, List[str]] = {}


def register_model_structural_tag(
    name: str, *, marker_tokens: Optional[List[str]] = None
) -> Callable[[ModelBuilder], ModelBuilder]:
    """Register a model template under ``name`` (a decorator).

    Parameters
    ----------
    name : str
        The key callers pass as ``model`` to :func:`get_model_structural_tag`.
    marker_tokens : list of str, optional
        The model's control markers that are single tokens in its tokenizer;
        declaring them enables ``token_markers=True`` for this model.

    Returns
    -------
    callable
        A decorator that registers and returns the builder. The builder is
        called as ``builder(function_tools, builtin_tools, tool_choice,
        reasoning, any_order=..., exclude_special_tokens=...,
        max_whitespace_cnt=..., parallel_tool_calls=...)`` with the outputs of
        :func:`normalize_tool_choice` and a reasoning mode (``"enabled"``,
        ``"disabled"`` or ``"auto"``), and returns a structural tag: a dict, or
        an object with ``model_dump()``.

    """

    def register(builder: ModelBuilder) -> ModelBuilder:
        _builders[name] = builder
        if marker_tokens is None:
            _marker_tokens.pop(name, None)
        else:
            _marker_tokens[name] = list(marker_tokens)
        return builder

    return register


def _reasoning_mode(reasoning: Any) -> str:
    if isinstance(reasoning, bool):
        return "enabled" if reasoning else "disabled"
    if isinstance(reasoning, str) and reasoning in REASONING_MODES:
        return reasoning
    raise UsageError(
        "The 'reasoning' argument must be a bool or one of: 'enabled', 'disabled', 'auto'."
    )


def _check_settings(any_order: Any, exclude_special_tokens: Any, max_whitespace_cnt: Any) -> None:
    for name, value in (
        ("any_order", any_order),
        ("exclude_special_tokens", exclude_special_tokens),
    ):
        if not isinstance(value, bool):
            raise UsageError(f"The '{name}' argument must be a bool, got {value!r}.")
    if max_whitespace_cnt is not None and (
        isinstance(max_whitespace_cnt, bool)
        or not isinstance(max_whitespace_cnt, int)
        or max_whitespace_cnt < 0
    ):
        raise UsageError(
            "The 'max_whitespace_cnt' argument must be a non-negative int or None, "
            f"got {max_whitespace_cnt!r}."
        )


def get_model_structural_tag(
    model: str,
    tools: Optional[List[Any]] = None,
    tool_choice: Union[str, Dict[str, Any], None] = "auto",
    reasoning: Union[bool, str] = "enabled",
    force_reasoning: bool = False,
    any_order: bool = False,
    exclude_special_tokens: bool = True,
    max_whitespace_cnt: Optional[int] = None,
    parallel_tool_calls: bool = True,
    token_markers: bool = False,
) -> Format:
    """The structural tag of a model's reasoning and tool-call output.

    Give it to a serving engine as ``response_format`` so the model's reply
    (reasoning, text, tool calls) follows the model's own syntax and every
    call's arguments follow its tool's schema.

    Parameters
    ----------
    model : str
        The model template: ``"llama"``, ``"qwen_3"``, ``"harmony"``, ... (any
        registered name; an unknown name's error lists them).
    tools : list, optional
        Function tools in the OpenAI Chat Completions shape
        ``{"type": "function", "function": {"name", "parameters", ...}}`` and
        builtin tools ``{"type", "name", "parameters"}``, as dicts or pydantic
        models. A function with ``strict=False`` or no ``parameters`` takes any
        JSON arguments.
    tool_choice : str, dict or None
        ``"auto"`` (also ``None``), ``"none"``, ``"required"``, a named
        function, a builtin type, or ``allowed_tools``; see
        :func:`normalize_tool_choice`.
    reasoning : {"enabled", "disabled", "auto"} or bool
        Whether the reply starts with the model's reasoning block: required,
        absent, or optional. ``True``/``False`` mean enabled/disabled.
    force_reasoning : bool
        Ignored; kept for XGrammar's signature (deprecated there).
    any_order : bool
        Let the properties of every argument object come in any order.
    exclude_special_tokens : bool
        Forbid the model's special tokens (``<think>``, ...) in free text.
    max_whitespace_cnt : int, optional
        Cap runs of whitespace inside arguments.
    parallel_tool_calls : bool
        Allow more than one call per reply; ``False`` allows at most one
        (exactly one when a call is required), and free text may not follow it.
    token_markers : bool
        Match the model's control markers as their single tokens (models that
        declare markers: Qwen 3, 3.5, Coder and GLM-4.7). The result then holds
        ``token``, ``token_triggered_tags`` and ``any_tokens`` formats, which
        need a tokenizer to compile.

    Returns
    -------
    dict
        ``{"type": "structural_tag", "format": {...}}`` in XGrammar's JSON form,
        equal after validation to what XGrammar 0.2.9 returns.

    Raises
    ------
    xgram.UsageError
        (a ``ValueError``) for an unknown model, malformed tools or choice, a
        bad setting, or a tool choice the model cannot honour. Checks XGrammar
        also makes raise with XGrammar's messages.

    """
    builder = _builders.get(model)
    if builder is None:
        raise UsageError(f"Unknown format type: {model}, supported types: {list(_builders)}")
    if not isinstance(token_markers, bool):
        raise UsageError("The 'token_markers' argument must be a bool.")
    markers = _marker_tokens.get(model)
    if token_markers and markers is None:
        raise UsageError(
            f"token_markers is not supported for model {model}, "
            f"supported models: {list(_marker_tokens)}"
        )
    function_tools, builtin_tools, choice = normalize_tool_choice(tools, tool_choice)
    mode = _reasoning_mode(reasoning)
    if not isinstance(parallel_tool_calls, bool):
        raise UsageError("The 'parallel_tool_calls' argument must be a bool.")
    _check_settings(any_order, exclude_special_tokens, max_whitespace_cnt)

    result = builder(
        function_tools,
        builtin_tools,
        choice,
        mode,
        any_order=any_order,
        exclude_special_tokens=exclude_special_tokens,
        max_whitespace_cnt=max_whitespace_cnt,
        parallel_tool_calls=parallel_tool_calls,
    )
    model_dump = getattr(result, "model_dump", None)
    if callable(model_dump):
        result = model_dump()
    if token_markers:
        result = bind_marker_tokens(result, markers or [])
    return result


get_builtin_structural_tag = get_model_structural_tag
"""XGrammar's older name of :func:`get_model_structural_tag`."""


# Registered in XGrammar's order, so the lists in error messages read the same.
_CATALOG: Tuple[Tuple[str, ModelBuilder, Optional[Tuple[str, ...]]], ...] = (
    ("llama", template_builder(inline.LLAMA), None),
    ("kimi", template_builder(section.KIMI), None),
    ("kimi_k3", build_kimi_k3, None),
    ("deepseek_r1", template_builder(section.DEEPSEEK_R1), None),
    ("deepseek_v3_1", template_builder(section.DEEPSEEK_V3_1), None),
    ("qwen_3_coder", template_builder(inline.QWEN_3_5), inline.QWEN_MARKERS),
    ("qwen_3_5", template_builder(inline.QWEN_3_5), inline.QWEN_MARKERS),
    ("mimo", template_builder(inline.MIMO), None),
    ("qwen_3", template_builder(inline.QWEN_3), inline.QWEN_MARKERS),
    ("harmony", build_harmony, None),
    ("deepseek_v3_2", template_builder(section.DEEPSEEK_V3_2), None),
    ("minimax", template_builder(section.MINIMAX), None),
    ("minimax_m3", template_builder(section.MINIMAX_M3), None),
    ("glm_4_7", template_builder(inline.GLM_4_7), inline.GLM_4_7_MARKERS),
    ("gemma_4", template_builder(inline.GEMMA_4), None),
    ("deepseek_v4", template_builder(section.DEEPSEEK_V4), None),
    ("deepseek_v4_1", template_builder(section.DEEPSEEK_V4_1), None),
    ("cohere", template_builder(section.COHERE), None),
    ("exaone", template_builder(inline.EXAONE), None),
)
for _name, _builder, _markers in _CATALOG:
    register_model_structural_tag(
        _name, marker_tokens=None if _markers is None else list(_markers)
    )(_builder)
