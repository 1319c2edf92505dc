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

from typing import Any, Optional, Sequence

from ..grammar import Grammar
from .xml_style_rules import STYLES, xml_style_ebnf, xml_style_grammar_handle


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
    handle = xml_style_grammar_handle(
        schema, style, any_order=any_order, max_whitespace_cnt=max_whitespace_cnt, excludes=excludes
    )
    return Grammar(handle)


__all__ = ["STYLES", "xml_style_ebnf", "xml_style_grammar"]
