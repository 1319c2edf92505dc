"""Constructors for structural-tag formats as plain dicts.

Every function returns one format in XGrammar's JSON form (the ``"type"`` key
names the format), so a structural tag built here can be serialised with
``json.dumps`` or handed to anything that reads XGrammar's structural tags.
Only the fields a format needs are written; readers fill the rest with their
defaults.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Union

Format = Dict[str, Any]
"""One structural-tag format: a dict whose ``"type"`` names its kind."""

JsonSchema = Union[bool, Dict[str, Any]]
"""A JSON schema: an object, or ``True`` for "any JSON value"."""


def const_string(value: str) -> Format:
    """Match exactly ``value``."""
    return {"type": "const_string", "value": value}


def regex(pattern: str) -> Format:
    """Match the regular expression ``pattern``."""
    return {"type": "regex", "pattern": pattern}


def any_text(excludes: Iterable[str] = ()) -> Format:
    """Match any text that contains none of ``excludes``."""
    return {"type": "any_text", "excludes": list(excludes)}


def json_schema(
    schema: JsonSchema,
    *,
    style: str = "json",
    any_order: bool = False,
    max_whitespace_cnt: Optional[int] = None,
    excludes: Iterable[str] = (),
) -> Format:
    """Match a value of ``schema`` written in ``style`` (JSON or a model's XML dialect)."""
    return {
        "type": "json_schema",
        "json_schema": schema,
        "style": style,
        "any_order": any_order,
        "max_whitespace_cnt": max_whitespace_cnt,
        "excludes": list(excludes),
    }


def tag(begin: Union[str, Format], content: Format, end: Union[str, List[str], Format]) -> Format:
    """Match ``begin``, then ``content``, then ``end`` (one string or a list of choices)."""
    return {"type": "tag", "begin": begin, "content": content, "end": end}


def sequence(*elements: Format) -> Format:
    """Match ``elements`` one after another."""
    return {"type": "sequence", "elements": list(elements)}


def one_of(*elements: Format) -> Format:
    """Match any one of ``elements`` (XGrammar's ``"or"`` format)."""
    return {"type": "or", "elements": list(elements)}


def optional(content: Format) -> Format:
    """Match ``content`` once or not at all."""
    return {"type": "optional", "content": content}


def triggered_tags(
    triggers: List[str],
    tags: List[Format],
    *,
    excludes: Iterable[str] = (),
    at_least_one: bool = False,
    stop_after_first: bool = False,
) -> Format:
    """Match free text in which each trigger string opens the tag it begins."""
    return {
        "type": "triggered_tags",
        "triggers": list(triggers),
        "tags": list(tags),
        "at_least_one": at_least_one,
        "stop_after_first": stop_after_first,
        "excludes": list(excludes),
    }


def tags_with_separator(
    tags: List[Format],
    separator: str,
    *,
    at_least_one: bool = False,
    stop_after_first: bool = False,
) -> Format:
    """Match tags joined by ``separator``, with no other text between them."""
    return {
        "type": "tags_with_separator",
        "tags": list(tags),
        "separator": separator,
        "at_least_one": at_least_one,
        "stop_after_first": stop_after_first,
    }


def token(marker: Union[int, str]) -> Format:
    """Match the single token ``marker`` (an id, or the token's text)."""
    return {"type": "token", "token": marker}


def any_tokens(
    exclude_tokens: Iterable[Union[int, str]] = (), max_tokens: Optional[int] = None
) -> Format:
    """Match any run of tokens other than ``exclude_tokens``."""
    return {"type": "any_tokens", "exclude_tokens": list(exclude_tokens), "max_tokens": max_tokens}


def token_triggered_tags(
    trigger_tokens: List[Union[int, str]],
    tags: List[Format],
    *,
    exclude_tokens: Iterable[Union[int, str]] = (),
    at_least_one: bool = False,
    stop_after_first: bool = False,
) -> Format:
    """Match free tokens in which each trigger token opens the tag that begins with it."""
    return {
        "type": "token_triggered_tags",
        "trigger_tokens": list(trigger_tokens),
        "tags": list(tags),
        "exclude_tokens": list(exclude_tokens),
        "at_least_one": at_least_one,
        "stop_after_first": stop_after_first,
    }


def structural_tag(fmt: Format) -> Format:
    """Wrap ``fmt`` as a complete structural tag (the ``response_format`` value)."""
    return {"type": "structural_tag", "format": fmt}
