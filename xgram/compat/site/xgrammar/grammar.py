"""XGrammar's :class:`Grammar`, backed by :class:`xgram.Grammar`."""

from __future__ import annotations

import functools
import inspect
import json
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Type, Union

from pydantic import BaseModel

import xgram

from . import _json_schema
from ._shim import load_versioned_json, not_supported, translate_errors
from ._structural_tag_args import build_structural_tag, structural_tag_args
from .config import SERIALIZATION_VERSION
from .exception import DeserializeFormatError
from .structural_tag import StructuralTag, StructuralTagItem

if TYPE_CHECKING:
    from .tokenizer_info import TokenizerInfo

__all__ = ["Grammar", "StructuralTag", "StructuralTagItem"]


class Grammar:
    """A grammar; build one with the static ``from_*`` methods.

    ``str(grammar)`` prints xgram's EBNF, which parses back with
    :meth:`from_ebnf`. Errors are xgram's (:class:`xgram.GrammarError`,
    :class:`xgram.SchemaError`), raised as ``RuntimeError`` subclasses as
    XGrammar's are.
    """

    _xgram: xgram.Grammar

    @classmethod
    def _wrap(cls, inner: xgram.Grammar) -> Grammar:
        grammar = cls.__new__(cls)
        grammar._xgram = inner
        return grammar

    def __str__(self) -> str:
        """The grammar as EBNF."""
        return str(self._xgram)

    def __repr__(self) -> str:
        return f"<xgrammar.Grammar (xgram) root={self._xgram.root_rule_name!r}>"

    @staticmethod
    @translate_errors
    def from_ebnf(ebnf_string: str, *, root_rule_name: str = "root") -> Grammar:
        """Parse EBNF (GBNF, as XGrammar's parser takes it; see xgram's README for the dialect)."""
        return Grammar._wrap(xgram.Grammar.from_ebnf(ebnf_string, root_rule_name=root_rule_name))

    @staticmethod
    @translate_errors
    def from_json_schema(
        schema: Union[str, Type[BaseModel], Dict[str, Any]],
        *,
        any_whitespace: bool = True,
        indent: Optional[int] = None,
        separators: Optional[Tuple[str, str]] = None,
        strict_mode: bool = True,
        max_whitespace_cnt: Optional[int] = None,
        print_converted_ebnf: bool = False,
        any_order: bool = False,
    ) -> Grammar:
        """The JSON texts valid under ``schema`` (JSON text, dict or pydantic model class).

        Options as :meth:`xgram.Grammar.from_json_schema`. A schema that xgram
        refuses but XGrammar would accept is compiled leniently, with one
        :class:`~xgram.compat.XGrammarSchemaRelaxedWarning` per schema.
        ``print_converted_ebnf`` prints the grammar.
        """
        options = dict(
            any_whitespace=any_whitespace,
            indent=indent,
            separators=separators,
            strict_mode=strict_mode,
            max_whitespace_cnt=max_whitespace_cnt,
            any_order=any_order,
        )
        grammar = Grammar._wrap(_json_schema.grammar_from_json_schema(schema, options))
        if print_converted_ebnf:
            print(grammar)
        return grammar

    @staticmethod
    @translate_errors
    def from_regex(regex_string: str, *, print_converted_ebnf: bool = False) -> Grammar:
        """The strings ``regex_string`` matches in full (``print_converted_ebnf``: print it)."""
        grammar = Grammar._wrap(xgram.Grammar.from_regex(regex_string))
        if print_converted_ebnf:
            print(grammar)
        return grammar

    @staticmethod
    @translate_errors
    def from_lark(
        lark_string: str,
        *,
        tokenizer_info: Optional[TokenizerInfo] = None,
        named_grammars: Optional[Dict[str, Union[Grammar, str]]] = None,
    ) -> Grammar:
        """A grammar in Lark syntax (start rule ``start``), parsed by ``xgram.Grammar.from_lark``.

        ``tokenizer_info`` only resolves named special tokens; it is passed on
        when xgram's parser takes it. ``named_grammars`` (``@name`` references)
        raise :class:`~xgram.compat.NotSupportedByXgramError`.
        """
        if named_grammars:
            raise not_supported(
                "Grammar.from_lark(named_grammars=...)",
                "xgram's Lark parser has no references to other grammars (@name)",
            )
        return Grammar._wrap(
            _call_with_tokenizer(xgram.Grammar.from_lark, lark_string, tokenizer_info)
        )

    @staticmethod
    @translate_errors
    def from_structural_tag(*args: Any, **kwargs: Any) -> Grammar:
        """A grammar from a structural tag.

        Call forms: ``from_structural_tag(structural_tag)`` with a
        :class:`StructuralTag`, JSON text or dict, and the deprecated
        ``from_structural_tag(tags, triggers)`` with a list of
        :class:`StructuralTagItem` and a list of trigger strings.

        Raises
        ------
        InvalidJSONError
            When the structural tag is text that is not JSON.
        InvalidStructuralTagError
            When xgram refuses the structural tag.
        NotSupportedByXgramError
            When it uses token-level formats, which xgram does not have.
        TypeError
            When the arguments match neither call form.

        """
        inner = build_structural_tag(
            xgram.Grammar.from_structural_tag,
            structural_tag_args(args, kwargs),
            "Grammar.from_structural_tag",
        )
        return Grammar._wrap(inner)

    @staticmethod
    @translate_errors
    def builtin_json_grammar() -> Grammar:
        """XGrammar's builtin JSON grammar: one JSON object or array, no surrounding whitespace."""
        return Grammar._wrap(_object_or_array_json())

    @staticmethod
    @translate_errors
    def concat(*grammars: Grammar) -> Grammar:
        """The concatenation of ``grammars``, in order."""
        return Grammar._wrap(xgram.Grammar.concat(*[_unwrap(g) for g in grammars]))

    @staticmethod
    @translate_errors
    def union(*grammars: Grammar) -> Grammar:
        """The union of ``grammars``."""
        return Grammar._wrap(xgram.Grammar.union(*[_unwrap(g) for g in grammars]))

    def serialize_json(self) -> str:
        """The grammar as versioned JSON (its EBNF), for :meth:`deserialize_json`."""
        return json.dumps(
            {
                "ebnf": str(self._xgram),
                "root_rule_name": self._xgram.root_rule_name,
                "__VERSION__": SERIALIZATION_VERSION,
            }
        )

    @staticmethod
    def deserialize_json(json_string: str) -> Grammar:
        """The grammar serialized by :meth:`serialize_json`.

        Raises
        ------
        InvalidJSONError
            When ``json_string`` is not JSON.
        DeserializeVersionError
            When it was written with another serialization version (e.g. by XGrammar).
        DeserializeFormatError
            When it is not a serialized grammar.

        """
        data = load_versioned_json(json_string, "Grammar")
        try:
            inner = xgram.Grammar.from_ebnf(data["ebnf"], root_rule_name=data["root_rule_name"])
        except (KeyError, TypeError, xgram.GrammarError) as exc:
            raise DeserializeFormatError(
                f"Deserialize format error: not a serialized Grammar ({exc!r})"
            ) from None
        return Grammar._wrap(inner)


def _unwrap(grammar: Any) -> xgram.Grammar:
    if not isinstance(grammar, Grammar):
        raise TypeError(f"expected xgrammar.Grammar, got {type(grammar).__name__}")
    return grammar._xgram


def _call_with_tokenizer(build: Any, text: str, tokenizer_info: Any) -> Any:
    """``build(text)``, passing ``tokenizer_info`` on when xgram's ``build`` takes one.

    A parser that takes no tokenizer has no named special tokens to resolve,
    so the grammar means the same without it.
    """
    if tokenizer_info is None or "tokenizer_info" not in inspect.signature(build).parameters:
        return build(text)
    return build(text, tokenizer_info=tokenizer_info._xgram)


@functools.lru_cache(maxsize=1)
def _object_or_array_json() -> xgram.Grammar:
    """The xgram JSON rules under XGrammar's root: an object or an array, nothing around it.

    xgram's builtin JSON grammar admits any JSON value with whitespace around
    it; XGrammar's admits only an object or an array and no outer whitespace.
    """
    builtin = xgram.Grammar.builtin_json_grammar()
    if not {"object", "array"} <= set(builtin.rule_names):
        raise not_supported(
            "Grammar.builtin_json_grammar",
            f"xgram's JSON grammar has no object and array rules (rules: {builtin.rule_names})",
        )
    rules = [line for line in str(builtin).splitlines() if not line.startswith("root ::=")]
    return xgram.Grammar.from_ebnf("\n".join(["root ::= object | array", *rules]))
