"""Tool arguments in a model's style, as EBNF: the rules behind :mod:`.xml_styles` (see there)."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

from .. import _core
from ..errors import GrammarError, SchemaError
from ..grammar_text import parse_ebnf
from ..schema_options import DEFAULT_MAX_WHITESPACE, JsonSchemaOptions
from .convert import json_schema_grammar_handle
from .emit import base_rules
from .matching import format_matches, pattern_matches
from .normalize import Normalizer
from .resolver import SchemaIndex, load_schema
from .xml_emit import KINDS, FilteringEmitter, StyleEmitter, XmlStyle

_DSML = "｜DSML｜"  # DeepSeek's DSML token, fullwidth bars included
_COHERE_NAME = '([^\\x00"&<>] | "&amp;" | "&lt;" | "&gt;" | "&quot;")+'
_COHERE_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"))


def _same_tag(text: str) -> Dict[str, str]:
    return {kind: text for kind in KINDS}


def _tags(**by_kind: str) -> Dict[str, str]:
    """Kind -> header text; ``array_const``/``object_const`` default to their kind's."""
    tags = dict(by_kind)
    tags.setdefault("array_const", tags["array"])
    tags.setdefault("object_const", tags["object"])
    return tags


def _deepseek(name: str, token: str) -> XmlStyle:
    tags = {kind: ' string="false">' for kind in KINDS}
    tags["string"] = ' string="true">'
    return XmlStyle(
        name,
        "params",
        f"</{token}parameter>",
        key_open=f'<{token}parameter name="',
        key_close='"',
        tags=tags,
        bad_in_name=('"',),
    )


def _kimi_tags() -> Dict[str, str]:
    names = {"string": "string", "number": "number", "boolean": "boolean", "null": "null"}
    names.update(array="array", object="object")
    return _tags(**{kind: f' type="{t}"<|sep|>' for kind, t in names.items()})


STYLES: Dict[str, XmlStyle] = {
    style.name: style
    for style in (
        XmlStyle(
            "qwen_xml",
            "params",
            "</parameter>",
            key_open="<parameter=",
            tags=_same_tag(">"),
            bad_in_name=(">",),
        ),
        XmlStyle(
            "minimax_xml",
            "params",
            "</parameter>",
            key_open='<parameter name="',
            key_close='"',
            tags=_same_tag(">"),
            bad_in_name=('"',),
        ),
        _deepseek("deepseek_xml", _DSML),
        _deepseek("deepseek_v4_1_xml", _DSML + " "),
        XmlStyle(
            "glm_xml",
            "params",
            "</arg_value>",
            key_open="<arg_key>",
            key_close="</arg_key>",
            tags=_same_tag(""),
            value_open="<arg_value>",
            bad_in_name=("</arg_key>",),
        ),
        XmlStyle(
            "kimi_k3_xml",
            "params",
            "<|close|>argument<|sep|>",
            key_open='<|open|>argument key="',
            key_close='"',
            tags=_kimi_tags(),
            key_escapes=(("&", "&amp;"), ('"', "&quot;")),
        ),
        XmlStyle(
            "cohere_xml",
            "params",
            "</cofl:value>",
            key_open='<cofl:value name="',
            key_close='"',
            tags=_tags(
                string=' type="raw">',
                number=' type="json">',
                boolean=' type="json">',
                null=' type="json">',
                array=' type="list">',
                object=' type="dict">',
                array_const=' type="json">',
                object_const=' type="json">',
            ),
            key_escapes=_COHERE_ESCAPES,
            bad_in_name=("\x00",),
            free_key=_COHERE_NAME,
            nested_params=True,
            item_open="<cofl:value",
        ),
        XmlStyle("minimax_m3_xml", "m3", "]<]minimax[>[", bad_in_name=(">",)),
        XmlStyle("gemma", "gemma", '<|"|>', bad_in_name=(":",)),
    )
}

_PADDING = " \t\n\r"


def _check_options(
    style: str, max_whitespace_cnt: Optional[int], excludes: Sequence[str]
) -> Tuple[str, ...]:
    """Validate the options; return ``excludes`` as a tuple."""
    if style != "json" and style not in STYLES:
        known = ", ".join(["json", *STYLES])
        raise SchemaError(f"unknown style {style!r} (known: {known})")
    if max_whitespace_cnt is not None and (
        not isinstance(max_whitespace_cnt, int) or max_whitespace_cnt < 1
    ):
        raise SchemaError(
            f"max_whitespace_cnt must be a positive integer, got {max_whitespace_cnt!r}"
        )
    if isinstance(excludes, str) or not all(isinstance(e, str) and e for e in excludes):
        raise SchemaError(f"excludes must be a list of non-empty strings, got {excludes!r}")
    excludes = tuple(excludes)
    if excludes and style in ("cohere_xml", "minimax_m3_xml"):
        raise SchemaError(f"excludes is not supported for {style}")
    if style in STYLES and STYLES[style].family == "params":
        padded = [e for e in excludes if e[0] in _PADDING or e[-1] in _PADDING]
        if padded:
            raise SchemaError(
                f"excludes of an XML style may not start or end with whitespace: {padded[0]!r}"
            )
    return excludes


def xml_style_ebnf(
    schema: Any,
    style: str,
    *,
    any_order: bool = False,
    max_whitespace_cnt: Optional[int] = None,
    excludes: Sequence[str] = (),
) -> str:
    """The EBNF text of :func:`xgram.json_schema.xml_styles.xml_style_grammar` (root ``root``)."""
    excludes = _check_options(style, max_whitespace_cnt, excludes)
    root = load_schema(schema)
    index = SchemaIndex(root)
    norm = Normalizer(index, pattern_matches)
    norm.format_matches = format_matches  # type: ignore[attr-defined]
    emitter = FilteringEmitter(
        norm,
        excludes=excludes,
        any_whitespace=True,
        indent=None,
        separators=None,
        max_whitespace_cnt=max_whitespace_cnt or DEFAULT_MAX_WHITESPACE,
        strict_mode=True,
        general_escapes=False,
        any_order=any_order,
    )
    root_sub = ((root, index.root_base, ""),)
    if style == "json":
        top = emitter.value(root_sub, 0, "root_value")
    else:
        layer = StyleEmitter(emitter, STYLES[style], excludes, any_order)
        top = layer.root(() if root is True or root == {} else root_sub)
    if top is None:
        raise SchemaError("no value satisfies this schema", "", "")
    rules = {"root": top}
    rules.update(emitter.rules)
    rules.update(base_rules(emitter))
    if excludes and "json_string" in rules:
        rules["json_string"] = f"({rules['json_string']}) - {emitter.quoted_excluded()}"
    return "\n".join(f"{name} ::= {body}" for name, body in rules.items()) + "\n"


def xml_style_grammar_handle(
    schema: Any,
    style: str,
    *,
    any_order: bool = False,
    max_whitespace_cnt: Optional[int] = None,
    excludes: Sequence[str] = (),
) -> _core.Grammar:
    """The core grammar of :func:`xgram.json_schema.xml_styles.xml_style_grammar`.

    Parameters and errors as there.
    """
    if style == "json" and not excludes:
        # XGrammar's structural tags use its JSON defaults: strict mode, any whitespace.
        options = JsonSchemaOptions(
            any_whitespace=True,
            strict_mode=True,
            max_whitespace_cnt=max_whitespace_cnt,
            any_order=any_order,
        )
        return json_schema_grammar_handle(schema, options)
    ebnf = xml_style_ebnf(
        schema, style, any_order=any_order, max_whitespace_cnt=max_whitespace_cnt, excludes=excludes
    )
    try:
        return parse_ebnf(ebnf)
    except GrammarError as e:
        if "no string" in str(e):
            raise SchemaError(f"no value satisfies this schema in style {style!r} ({e})") from None
        raise


__all__ = ["STYLES", "xml_style_ebnf", "xml_style_grammar_handle"]
