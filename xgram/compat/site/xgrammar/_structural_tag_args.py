"""The arguments of ``from_structural_tag`` / ``compile_structural_tag``, as xgram takes them.

XGrammar accepts a structural tag as a :class:`StructuralTag`, JSON text or a
dict, or the deprecated ``(tags, triggers)`` pair; xgram's
``from_structural_tag`` takes a dict, or a list of ``{"begin", "schema",
"end"}`` dicts and the triggers. A tag whose JSON schemas xgram refuses is
built again leniently, as XGrammar accepts it. Errors are XGrammar's:
:class:`InvalidJSONError` for text that is not JSON,
:class:`InvalidStructuralTagError` for a tag xgram refuses, and
:class:`~xgram.compat.NotSupportedByXgramError` when the refused tag uses a
token-level feature xgram does not have (``exclude_token``, ``max_tokens`` budgets).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import xgram

from ._shim import BoundedCache, not_supported
from .exception import InvalidJSONError, InvalidStructuralTagError
from .structural_tag import StructuralTag, StructuralTagItem, _schema_to_dict

# Token-level elements xgram cannot enforce: exactly one token of any text, and
# token budgets (xgram matches token formats by id, see xgram.structural_tag).
_TOKEN_LEVEL_TYPES = {"exclude_token"}


def structural_tag_args(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Any, ...]:
    """The positional arguments for xgram's ``from_structural_tag``, from XGrammar's call forms.

    Raises
    ------
    TypeError
        When the arguments match neither form.
    InvalidJSONError
        When a structural tag given as text is not JSON.

    """
    if len(args) == 1 and not kwargs:
        return (_spec(args[0]),)
    if len(args) == 2 and not kwargs and isinstance(args[0], list) and isinstance(args[1], list):
        return _legacy(args[0], args[1])
    if not args and set(kwargs) == {"structural_tag"}:
        return (_spec(kwargs["structural_tag"]),)
    if not args and set(kwargs) == {"tags", "triggers"}:
        return _legacy(kwargs["tags"], kwargs["triggers"])
    raise TypeError("Invalid arguments for from_structural_tag")


def _spec(structural_tag: Any) -> Dict[str, Any]:
    if isinstance(structural_tag, StructuralTag):
        return structural_tag.model_dump(mode="json")
    if isinstance(structural_tag, dict):
        return structural_tag
    if isinstance(structural_tag, str):
        try:
            return json.loads(structural_tag)
        except ValueError as exc:
            raise InvalidJSONError(f"Invalid JSON error: Failed to parse JSON: {exc}") from None
    raise TypeError("Invalid argument type for from_structural_tag")


def _legacy(tags: List[Any], triggers: List[str]) -> Tuple[List[Dict[str, Any]], List[str]]:
    items = [
        tag if isinstance(tag, StructuralTagItem) else StructuralTagItem.model_validate(tag)
        for tag in tags
    ]
    dicts = [
        {"begin": item.begin, "schema": _schema_to_dict(item.schema_), "end": item.end}
        for item in items
    ]
    return dicts, list(triggers)


def build_structural_tag(build: Callable[..., Any], xgram_args: Tuple[Any, ...], name: str) -> Any:
    """``build(*xgram_args)``, lenient where XGrammar is, with XGrammar's errors.

    A structural tag whose JSON schema xgram refuses is built again with
    ``lenient=True`` (xgram then warns with :class:`xgram.SchemaRelaxedWarning`,
    once per schema under Python's default warning filter), as
    :func:`~xgrammar._json_schema.grammar_from_json_schema` does for schemas.
    """
    # The key costs a serialization of the tag: only worth it once some tag needed leniency.
    key = _tag_key(xgram_args) if len(_lenient_tags) else None
    if key is not None and _lenient_tags.get(key):
        return _build(build, xgram_args, name, lenient=True)
    try:
        return _build(build, xgram_args, name, lenient=False)
    except InvalidStructuralTagError as exc:
        if not isinstance(exc.__cause__, xgram.StructuralTagError) or not isinstance(
            exc.__cause__.__cause__, xgram.SchemaError
        ):
            raise
    built = _build(build, xgram_args, name, lenient=True)
    key = _tag_key(xgram_args)
    if key is not None:
        _lenient_tags.add(key, True)
    return built


def _build(build: Callable[..., Any], xgram_args: Tuple[Any, ...], name: str, lenient: bool) -> Any:
    try:
        return build(*xgram_args, lenient=lenient)
    except xgram.XgramError as exc:
        token_level = sorted(_token_level_features(xgram_args[0]))
        if token_level:
            raise not_supported(
                name,
                f"the structural tag uses token-level formats ({', '.join(token_level)}), "
                f"which xgram does not match token by token ({exc})",
            ) from exc
        raise InvalidStructuralTagError(f"Invalid structural tag error: {exc}") from exc


def _tag_key(xgram_args: Tuple[Any, ...]) -> Optional[str]:
    try:
        return json.dumps(xgram_args, sort_keys=True)
    except (TypeError, ValueError):
        return None


# Structural tags known to need leniency, so they skip the exact attempt.
_lenient_tags: BoundedCache[bool] = BoundedCache(512)


def _token_level_features(node: Any) -> Set[str]:
    """The token-level format types and token budgets anywhere in a structural tag."""
    found: Set[str] = set()
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in _TOKEN_LEVEL_TYPES:
            found.add(str(kind))
        if kind in ("any_text", "any_tokens") and node.get("max_tokens") is not None:
            found.add(f"{kind}.max_tokens")
        for value in node.values():
            found |= _token_level_features(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            found |= _token_level_features(value)
    return found
