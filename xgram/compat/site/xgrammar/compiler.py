"""XGrammar's :class:`GrammarCompiler` and :class:`CompiledGrammar`, backed by xgram's."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Tuple, Type, Union

from pydantic import BaseModel

import xgram

from . import _json_schema
from ._shim import load_versioned_json, not_supported, translate_errors
from ._structural_tag_args import build_structural_tag, structural_tag_args
from .config import SERIALIZATION_VERSION
from .exception import DeserializeFormatError
from .grammar import Grammar, _object_or_array_json
from .structural_tag import StructuralTag, StructuralTagItem
from .tokenizer_info import TokenizerInfo

__all__ = ["CompiledGrammar", "GrammarCompiler", "StructuralTag", "StructuralTagItem"]


class CompiledGrammar:
    """A grammar compiled for one tokenizer; make one with :class:`GrammarCompiler`."""

    _xgram: xgram.CompiledGrammar
    _tokenizer_info: TokenizerInfo

    @classmethod
    def _wrap(cls, inner: xgram.CompiledGrammar, tokenizer_info: TokenizerInfo) -> CompiledGrammar:
        compiled = cls.__new__(cls)
        compiled._xgram = inner
        compiled._tokenizer_info = tokenizer_info
        return compiled

    @property
    def grammar(self) -> Grammar:
        """The grammar that was compiled."""
        return Grammar._wrap(self._xgram.grammar)

    @property
    def tokenizer_info(self) -> TokenizerInfo:
        """The tokenizer info it was compiled for."""
        return self._tokenizer_info

    @property
    def memory_size_bytes(self) -> int:
        """Bytes held by the automaton and the token masks computed so far."""
        return self._xgram.memory_size_bytes

    def serialize_json(self) -> str:
        """The compiled grammar as versioned JSON (without the vocabulary)."""
        # xgram's JSON is embedded as an object, not as an escaped string.
        version = json.dumps(SERIALIZATION_VERSION)
        return f'{{"__VERSION__": {version}, "compiled_grammar": {self._xgram.serialize_json()}}}'

    @staticmethod
    def deserialize_json(json_str: str, tokenizer_info: TokenizerInfo) -> CompiledGrammar:
        """The compiled grammar serialized by :meth:`serialize_json`, for ``tokenizer_info``.

        Raises
        ------
        InvalidJSONError
            When ``json_str`` is not JSON.
        DeserializeVersionError
            When it was written with another serialization version (e.g. by XGrammar).
        DeserializeFormatError
            When it is not a serialized compiled grammar, or was compiled for
            another tokenizer.

        """
        data = load_versioned_json(json_str, "CompiledGrammar")
        try:
            inner = xgram.CompiledGrammar.deserialize_json(
                json.dumps(data["compiled_grammar"]), tokenizer_info._xgram
            )
        except (KeyError, TypeError, xgram.XgramError) as exc:
            raise DeserializeFormatError(f"Deserialize format error: {exc}") from None
        return CompiledGrammar._wrap(inner, tokenizer_info)

    def __repr__(self) -> str:
        return f"<xgrammar.CompiledGrammar (xgram) {self._xgram!r}>"


class GrammarCompiler:
    """Compiles grammars for one tokenizer, caching the results.

    Parameters
    ----------
    tokenizer_info : TokenizerInfo
    max_threads : int, default 8
        Threads xgram may use to compute token masks.
    cache_enabled : bool, default True
        Return the same compiled grammar for the same input.
    cache_limit_bytes : int, default -1
        Memory bound of the cache (-1: none).
    enable_dynamic_compilation : bool, default False
        XGrammar computes every token mask at compile time unless this is
        True. xgram computes each mask the first time a matcher needs it,
        either way; the masks are the same.

    """

    _xgram: xgram.GrammarCompiler

    def __init__(
        self,
        tokenizer_info: TokenizerInfo,
        *,
        max_threads: int = 8,
        cache_enabled: bool = True,
        cache_limit_bytes: int = -1,
        enable_dynamic_compilation: bool = False,
    ) -> None:
        if not isinstance(tokenizer_info, TokenizerInfo):
            raise ValueError(
                "Please convert the tokenizer to TokenizerInfo before passing it "
                "to GrammarCompiler."
            )
        self._tokenizer_info = tokenizer_info
        self._xgram = xgram.GrammarCompiler(
            tokenizer_info._xgram,
            max_threads=max_threads,
            cache_enabled=cache_enabled,
            cache_limit_bytes=cache_limit_bytes,
        )

    def _wrap(self, inner: xgram.CompiledGrammar) -> CompiledGrammar:
        return CompiledGrammar._wrap(inner, self._tokenizer_info)

    @translate_errors
    def compile_json_schema(
        self,
        schema: Union[str, Type[BaseModel], Dict[str, Any]],
        *,
        any_whitespace: bool = True,
        indent: Optional[int] = None,
        separators: Optional[Tuple[str, str]] = None,
        strict_mode: bool = True,
        max_whitespace_cnt: Optional[int] = None,
        any_order: bool = False,
    ) -> CompiledGrammar:
        """Compile a JSON schema (see :meth:`Grammar.from_json_schema`, leniency included)."""
        options = dict(
            any_whitespace=any_whitespace,
            indent=indent,
            separators=separators,
            strict_mode=strict_mode,
            max_whitespace_cnt=max_whitespace_cnt,
            any_order=any_order,
        )
        return self._wrap(_json_schema.compile_json_schema(self._xgram, schema, options))

    @translate_errors
    def compile_builtin_json_grammar(self) -> CompiledGrammar:
        """Compile :meth:`Grammar.builtin_json_grammar`."""
        return self._wrap(self._xgram.compile_grammar(_object_or_array_json()))

    @translate_errors
    def compile_regex(self, regex: str) -> CompiledGrammar:
        """Compile a regular expression (see :meth:`Grammar.from_regex`)."""
        return self._wrap(self._xgram.compile_regex(regex))

    @translate_errors
    def compile_lark(
        self, lark_string: str, *, named_grammars: Optional[Dict[str, Union[Grammar, str]]] = None
    ) -> CompiledGrammar:
        """Compile a Lark grammar (see :meth:`Grammar.from_lark`)."""
        if named_grammars:
            raise not_supported(
                "GrammarCompiler.compile_lark(named_grammars=...)",
                "xgram's Lark parser has no references to other grammars (@name)",
            )
        return self._wrap(self._xgram.compile_lark(lark_string))

    @translate_errors
    def compile_structural_tag(self, *args: Any, **kwargs: Any) -> CompiledGrammar:
        """Compile a structural tag (call forms and errors: :meth:`Grammar.from_structural_tag`)."""
        compiled = build_structural_tag(
            self._xgram.compile_structural_tag,
            structural_tag_args(args, kwargs),
            "GrammarCompiler.compile_structural_tag",
        )
        return self._wrap(compiled)

    @translate_errors
    def compile_grammar(
        self, grammar: Union[str, Grammar], *, root_rule_name: str = "root"
    ) -> CompiledGrammar:
        """Compile a :class:`Grammar`, or EBNF text with root rule ``root_rule_name``.

        Raises
        ------
        ValueError
            When ``grammar`` is neither.

        """
        if isinstance(grammar, str):
            return self._wrap(self._xgram.compile_grammar(grammar, root_rule_name=root_rule_name))
        if isinstance(grammar, Grammar):
            return self._wrap(self._xgram.compile_grammar(grammar._xgram))
        raise ValueError("Invalid grammar type. Please pass a string or a Grammar object.")

    def clear_cache(self) -> None:
        """Drop every cached compiled grammar."""
        self._xgram.clear_cache()

    def get_cache_size_bytes(self) -> int:
        """Memory held by the cached compiled grammars."""
        return self._xgram.get_cache_size_bytes()

    @property
    def cache_limit_bytes(self) -> int:
        """The cache's memory bound in bytes; -1 when unbounded."""
        return self._xgram.cache_limit_bytes
