"""Structural tags: XGrammar's request format, as pydantic models.

These are API data types: each model has XGrammar 0.2.9's ``type`` tag,
fields, defaults and validators, so ``model_dump()`` and
``model_validate()`` agree with XGrammar's. A structural tag is turned into a
grammar by xgram (:meth:`xgrammar.Grammar.from_structural_tag`); nothing here
interprets it.
"""

import json
from typing import Any, Dict, List, Literal, Optional, Tuple, Type, Union

from pydantic import BaseModel, Field
from typing_extensions import Annotated

_INT32_MAX = 2_147_483_647

_JSONSchemaStyle = Literal[
    "json",
    "qwen_xml",
    "minimax_xml",
    "minimax_m3_xml",
    "deepseek_xml",
    "glm_xml",
    "cohere_xml",
    "kimi_k3_xml",
    "deepseek_v4_1_xml",
    "gemma",
]
"""How ``JSONSchemaFormat`` spells a value: JSON, or one of the models' XML-like argument styles."""

# ---------- Basic formats ----------


class ConstStringFormat(BaseModel):
    """Exactly the string ``value``."""

    type: Literal["const_string"] = "const_string"
    value: str


class JSONSchemaFormat(BaseModel):
    """A JSON value valid under ``json_schema``, spelled in ``style``.

    ``any_order`` lets object properties come in any order; ``max_whitespace_cnt``
    bounds whitespace runs; ``excludes`` lists substrings that free string values
    and property names may not contain.
    """

    type: Literal["json_schema"] = "json_schema"
    json_schema: Union[bool, Dict[str, Any]]
    style: _JSONSchemaStyle = "json"
    any_order: bool = False
    max_whitespace_cnt: Optional[int] = None
    excludes: List[str] = []


class AnyTextFormat(BaseModel):
    """Any text without the ``excludes`` substrings, optionally bounded in tokens or characters."""

    type: Literal["any_text"] = "any_text"
    excludes: List[str] = []
    max_tokens: Optional[int] = Field(default=None, ge=0, le=_INT32_MAX)
    max_chars: Optional[int] = Field(default=None, ge=0, le=_INT32_MAX)


class TokenFormat(BaseModel):
    """One token, by id or by its text."""

    type: Literal["token"] = "token"
    token: Union[int, str]


class ExcludeTokenFormat(BaseModel):
    """One token other than the ``exclude_tokens``."""

    type: Literal["exclude_token"] = "exclude_token"
    exclude_tokens: List[Union[int, str]] = []


class AnyTokensFormat(BaseModel):
    """Any tokens but the ``exclude_tokens``, at most ``max_tokens`` of them."""

    type: Literal["any_tokens"] = "any_tokens"
    exclude_tokens: List[Union[int, str]] = []
    max_tokens: Optional[int] = Field(default=None, ge=0, le=_INT32_MAX)


class GrammarFormat(BaseModel):
    """Text matching ``grammar``, written in EBNF or Lark (``syntax``)."""

    type: Literal["grammar"] = "grammar"
    grammar: str
    syntax: Literal["ebnf", "lark"] = "ebnf"


class RegexFormat(BaseModel):
    """Text matching the regular expression ``pattern``."""

    type: Literal["regex"] = "regex"
    pattern: str


# ---------- Combinations ----------


class SequenceFormat(BaseModel):
    """The ``elements``, one after another."""

    type: Literal["sequence"] = "sequence"
    elements: List["Format"]


class OrFormat(BaseModel):
    """One of the ``elements``."""

    type: Literal["or"] = "or"
    elements: List["Format"]


class TagFormat(BaseModel):
    """``begin``, then ``content``, then ``end`` (one string, one of several, or a token)."""

    type: Literal["tag"] = "tag"
    begin: Union[str, TokenFormat]
    content: "Format"
    end: Union[str, List[str], TokenFormat]


class TriggeredTagsFormat(BaseModel):
    """Free text in which a ``trigger`` starts one of the ``tags``.

    Each tag's ``begin`` starts with exactly one trigger. ``at_least_one``
    requires a tag, ``stop_after_first`` ends the format after the first one,
    ``excludes`` lists substrings the free text may not contain.
    """

    type: Literal["triggered_tags"] = "triggered_tags"
    triggers: List[str]
    tags: List[TagFormat]
    at_least_one: bool = False
    stop_after_first: bool = False
    excludes: List[str] = []


class TokenTriggeredTagsFormat(BaseModel):
    """As :class:`TriggeredTagsFormat`, with trigger tokens and tags that begin with a token."""

    type: Literal["token_triggered_tags"] = "token_triggered_tags"
    trigger_tokens: List[Union[int, str]]
    tags: List[TagFormat]
    exclude_tokens: List[Union[int, str]] = []
    at_least_one: bool = False
    stop_after_first: bool = False


class TagsWithSeparatorFormat(BaseModel):
    """Zero or more of the ``tags``, ``separator`` between two, nothing else."""

    type: Literal["tags_with_separator"] = "tags_with_separator"
    tags: List[TagFormat]
    separator: str
    at_least_one: bool = False
    stop_after_first: bool = False


class OptionalFormat(BaseModel):
    """``content`` zero times or once."""

    type: Literal["optional"] = "optional"
    content: "Format"


class PlusFormat(BaseModel):
    """``content`` once or more."""

    type: Literal["plus"] = "plus"
    content: "Format"


class StarFormat(BaseModel):
    """``content`` any number of times."""

    type: Literal["star"] = "star"
    content: "Format"


class RepeatFormat(BaseModel):
    """``content`` between ``min`` and ``max`` times (``max=-1``: no upper bound)."""

    type: Literal["repeat"] = "repeat"
    min: int
    max: int
    content: "Format"


class DispatchFormat(BaseModel):
    """Free text in which a rule's pattern string is followed by that rule's format.

    ``loop=False`` ends the format after the first dispatch; ``excludes`` lists
    substrings the free text may not contain.
    """

    type: Literal["dispatch"] = "dispatch"
    rules: List[Tuple[str, "Format"]]
    loop: bool = True
    excludes: List[str] = []


class TokenDispatchFormat(BaseModel):
    """As :class:`DispatchFormat`, with pattern tokens (ids or token strings)."""

    type: Literal["token_dispatch"] = "token_dispatch"
    rules: List[Tuple[Union[int, str], "Format"]]
    loop: bool = True
    exclude_tokens: List[Union[int, str]] = []


# ---------- Deprecated ----------


class QwenXMLParameterFormat(BaseModel):
    """Deprecated: ``JSONSchemaFormat(style="qwen_xml")``; kept so stored tags still load."""

    type: Literal["qwen_xml_parameter"] = "qwen_xml_parameter"
    json_schema: Union[bool, Dict[str, Any]]


# ---------- The union of all formats ----------

# The order of the alternatives is XGrammar's, so the JSON schema of the models
# (and any error listing the alternatives) is the same.
Format = Annotated[
    Union[
        AnyTextFormat,
        ConstStringFormat,
        JSONSchemaFormat,
        GrammarFormat,
        RegexFormat,
        QwenXMLParameterFormat,
        OrFormat,
        SequenceFormat,
        TagFormat,
        TriggeredTagsFormat,
        TokenTriggeredTagsFormat,
        TagsWithSeparatorFormat,
        OptionalFormat,
        PlusFormat,
        StarFormat,
        TokenFormat,
        ExcludeTokenFormat,
        AnyTokensFormat,
        RepeatFormat,
        DispatchFormat,
        TokenDispatchFormat,
    ],
    Field(discriminator="type"),
]
"""Any structural tag format, told apart by its ``type`` field."""

for _model in (
    SequenceFormat,
    OrFormat,
    TagFormat,
    TriggeredTagsFormat,
    TokenTriggeredTagsFormat,
    TagsWithSeparatorFormat,
    OptionalFormat,
    PlusFormat,
    StarFormat,
    RepeatFormat,
    DispatchFormat,
    TokenDispatchFormat,
):
    _model.model_rebuild()


# ---------- Top level ----------


def _schema_to_dict(schema: Union[str, Type[BaseModel], Dict[str, Any], bool]) -> Any:
    """A JSON schema given as JSON text, a pydantic model class or a dict, as parsed JSON."""
    if isinstance(schema, str):
        return json.loads(schema)
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    return schema


class StructuralTagItem(BaseModel):
    """Deprecated: one tag of ``Grammar.from_structural_tag(tags, triggers)``."""

    begin: str
    schema_: Union[str, Type[BaseModel], Dict[str, Any]] = Field(alias="schema")
    end: str


class StructuralTag(BaseModel):
    """A complete structural tag: ``{"type": "structural_tag", "format": {...}}``."""

    type: Literal["structural_tag"] = "structural_tag"
    format: Format

    @staticmethod
    def from_legacy_structural_tag(
        tags: List[StructuralTagItem], triggers: List[str]
    ) -> "StructuralTag":
        """The structural tag equivalent to the deprecated ``(tags, triggers)`` form."""
        return StructuralTag(
            format=TriggeredTagsFormat(
                triggers=triggers,
                tags=[
                    TagFormat(
                        begin=tag.begin,
                        content=JSONSchemaFormat(json_schema=_schema_to_dict(tag.schema_)),
                        end=tag.end,
                    )
                    for tag in tags
                ],
            )
        )

    @staticmethod
    def from_json(json_str: Union[str, Dict[str, Any]]) -> "StructuralTag":
        """Validate a structural tag given as JSON text or as a dict."""
        if isinstance(json_str, str):
            return StructuralTag.model_validate_json(json_str)
        if isinstance(json_str, dict):
            return StructuralTag.model_validate(json_str)
        raise ValueError("Invalid JSON string or dictionary")


__all__ = [
    "ConstStringFormat",
    "JSONSchemaFormat",
    "QwenXMLParameterFormat",
    "AnyTextFormat",
    "GrammarFormat",
    "RegexFormat",
    "TokenFormat",
    "ExcludeTokenFormat",
    "AnyTokensFormat",
    "SequenceFormat",
    "OrFormat",
    "TagFormat",
    "TriggeredTagsFormat",
    "TokenTriggeredTagsFormat",
    "TagsWithSeparatorFormat",
    "OptionalFormat",
    "PlusFormat",
    "StarFormat",
    "RepeatFormat",
    "Format",
    "StructuralTagItem",
    "StructuralTag",
]
