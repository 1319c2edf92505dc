"""Tool arguments in a model's own syntax: XGrammar 0.2.9's ``json_schema`` styles.

XGrammar's structural tag ``{"type": "json_schema", "json_schema": S, "style": ...}``
writes the object at the root of a tool's argument schema the way a model family
does, while nested values stay JSON (except where a style respells them too):

=====================  ===================================================================
style                  one argument
=====================  ===================================================================
``qwen_xml``           ``<parameter=city>Paris</parameter>``
``minimax_xml``        ``<parameter name="city">Paris</parameter>``
``deepseek_xml``       ``<｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>``
``deepseek_v4_1_xml``  the same with ``<｜DSML｜ parameter`` (a space after the token)
``glm_xml``            ``<arg_key>city</arg_key><arg_value>Paris</arg_value>``
``kimi_k3_xml``        ``<|open|>argument key="city" type="string"<|sep|>Paris``
                       ``<|close|>argument<|sep|>``
``cohere_xml``         ``<cofl:value name="city" type="raw">Paris</cofl:value>``; objects
                       (``type="dict"``) and arrays (``type="list"``) are parameters again
``minimax_m3_xml``     ``]<]minimax[>[<city>Paris]<]minimax[>[</city>`` at every level,
                       array items as ``<item>`` elements
``gemma``              ``{city:<|"|>Paris<|"|>}``: JSON with bare keys and ``<|"|>`` strings
``json``               plain JSON (:meth:`xgram.Grammar.from_json_schema`)
=====================  ===================================================================

Common to the parameter styles (probed on XGrammar 0.2.9): whitespace may precede,
separate and follow the parameters; a string value is the raw text between the
header and the closing tag (no quotes, no escapes, no padding: its whitespace is
its own); any other value is JSON with whitespace around it; properties come in
schema order, each optional one present or absent, undeclared names (where the
schema allows them) after the declared ones, spelled ``[a-zA-Z_][a-zA-Z0-9_]*``.
DeepSeek says ``string="true"`` for raw strings and ``"false"`` otherwise;
Kimi-K3 names the type (``string``, ``number``, ``boolean``, ``null``, ``array``,
``object``); Cohere says ``raw``, ``json`` (scalars, literal structures),
``dict`` or ``list``. A schema whose root is not an object is written as one
parameter's value would be. The root schema ``{}`` means any parameters.

Where XGrammar is looser than the schema, xgram stays exact:

- a header's type always matches its value (XGrammar offers every type for an
  undeclared name, and pads raw enum strings with whitespace in some styles);
- no raw value may hold its closing tag, ``pattern``/``format``/length-bounded
  strings included (XGrammar lets those run past it);
- ``pattern`` searches, as JSON Schema says (XGrammar matches it whole);
- length bounds hold together with ``excludes`` (XGrammar drops them);
- undeclared names differ from every declared one;
- ``any_order`` keeps each required property exactly once, as xgram's JSON does
  (XGrammar only counts entries, so required ones may be missing or repeated);
- whitespace runs are at most ``max_whitespace_cnt`` long, 64 by default (XGrammar:
  unbounded by default);
- strict mode as in xgram's JSON: an object schema without ``additionalProperties``
  takes its declared properties only (XGrammar leaves ``{"type": "object"}`` open);
- the root schema ``{}`` is an object in Gemma too (XGrammar: any value).

Spelled differently but not looser: literal objects and arrays (``const``, ``enum``)
may carry the layout whitespace of their style (XGrammar writes them compact), and
an ``integer`` takes ``1.0`` as xgram's JSON does.

Refused with :class:`~xgram.SchemaError` (what and where): ``patternProperties``
and ``propertyNames`` on a non-JSON layer, ``contains``/``uniqueItems`` on M3,
Cohere and Gemma lists, declared names a style cannot write back (``>`` in a Qwen
name, ``"`` in a MiniMax/DeepSeek one, ``:`` in a Gemma key...), unconstrained
values and undeclared names in ``minimax_m3_xml``, and ``excludes`` that
``cohere_xml``/``minimax_m3_xml`` (any) or the parameter styles (starting or
ending with whitespace) do not take, as XGrammar refuses them.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

from ..errors import GrammarError, SchemaError
from ..grammar import Grammar
from . import DEFAULT_MAX_WHITESPACE
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
    """The EBNF text of :func:`xml_style_grammar` (root rule ``root``)."""
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


def xml_style_grammar(
    schema: Any,
    style: str,
    *,
    any_order: bool = False,
    max_whitespace_cnt: Optional[int] = None,
    excludes: Sequence[str] = (),
) -> Grammar:
    """A grammar for tool arguments written in a model's style (XGrammar's ``json_schema`` format).

    Parameters
    ----------
    schema : str, dict, bool or pydantic model class
        The arguments' JSON schema.
    style : str
        ``"json"`` or one of :data:`STYLES` (see the module docstring for each spelling).
    any_order : bool, default False
        Properties in any order, each required one exactly once (nested objects too).
    max_whitespace_cnt : int, optional
        The longest run of whitespace between tokens (default 64).
    excludes : sequence of str
        Substrings no free string value and no undeclared name may contain
        (nested JSON strings included; strings with a ``pattern`` or ``format``
        are left to it); literals holding one are dropped.

    Returns
    -------
    Grammar
        Exact for the schema: see the module docstring for where XGrammar is looser.

    Raises
    ------
    SchemaError
        For bad options and for what a style cannot write, with the keyword and
        the JSON pointer where known.

    """
    if style == "json" and not excludes:
        # XGrammar's structural tags use its JSON defaults: strict mode, any whitespace.
        return Grammar.from_json_schema(
            schema,
            any_whitespace=True,
            strict_mode=True,
            max_whitespace_cnt=max_whitespace_cnt,
            any_order=any_order,
        )
    ebnf = xml_style_ebnf(
        schema, style, any_order=any_order, max_whitespace_cnt=max_whitespace_cnt, excludes=excludes
    )
    try:
        return Grammar.from_ebnf(ebnf)
    except GrammarError as e:
        if "no string" in str(e):
            raise SchemaError(f"no value satisfies this schema in style {style!r} ({e})") from None
        raise


__all__ = ["STYLES", "xml_style_ebnf", "xml_style_grammar"]
