"""Compiling grammars against a tokenizer: :class:`GrammarCompiler`, :class:`CompiledGrammar`."""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections import OrderedDict
from typing import Any, Callable, Mapping, Optional, Tuple, Union

from . import _core
from ._compile_scope import CancellationToken, compile_scope
from .errors import ArgumentTypeError, UsageError, integer_argument
from .grammar import Grammar
from .schema_options import JsonSchemaOptions
from .tokenizer_info import TokenizerInfo

_SERIAL_VERSION = "xgram-compiled-grammar/1"


def _refs_key(refs: Any) -> Optional[str]:
    """The cache-key part for a ``refs`` registry: a stable JSON text, or None.

    None (do not cache) when a document is not plain JSON (e.g. a pydantic class),
    as for the schema itself.
    """
    if refs is None:
        return ""
    if not isinstance(refs, Mapping):
        return None  # the conversion rejects it
    try:
        return " refs=" + json.dumps(dict(refs), sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return None


def _json_key(value: Any, sort_keys: bool = False) -> Optional[str]:
    """``value`` as JSON text for a cache key, or None when it has none.

    A value json cannot write (too deep, an integer too long to print, an object
    that is not JSON) is not cached; the conversion then says what is wrong.
    """
    try:
        return json.dumps(value, sort_keys=sort_keys)
    except (TypeError, ValueError, RecursionError):
        return None


def _serialized_text(obj: Mapping[str, Any], field: str, default: Optional[str] = None) -> str:
    """The text field ``field`` of a serialized compiled grammar, checked to be UTF-8 text."""
    if field not in obj and default is None:
        raise UsageError(f"serialized compiled grammar lacks the field {field!r}")
    value = obj.get(field, default)
    try:
        value.encode("utf-8")
    except (AttributeError, UnicodeEncodeError):
        raise UsageError(
            f"serialized compiled grammar is corrupt: the field {field!r} is not text"
        ) from None
    return value


def _check_tokenizer_info(tokenizer_info: Any) -> None:
    if not isinstance(tokenizer_info, TokenizerInfo):
        raise ArgumentTypeError(
            f"tokenizer_info must be an xgram.TokenizerInfo, got {type(tokenizer_info).__name__}"
        )


class CompiledGrammar:
    """A grammar compiled for one tokenizer: its automaton and token-mask cache.

    Cache entries are computed lazily on first use by a matcher, or all at once
    by :meth:`GrammarCompiler.compile_grammar` with ``precompute=True``.
    """

    __slots__ = ("_handle", "_grammar", "_tokenizer_info")

    def __init__(
        self, handle: _core.CompiledGrammar, grammar: Grammar, tokenizer_info: TokenizerInfo
    ):
        self._handle = handle
        self._grammar = grammar
        self._tokenizer_info = tokenizer_info

    @property
    def grammar(self) -> Grammar:
        """The source grammar."""
        return self._grammar

    @property
    def tokenizer_info(self) -> TokenizerInfo:
        """The tokenizer it was compiled for."""
        return self._tokenizer_info

    @property
    def memory_size_bytes(self) -> int:
        """Bytes this grammar holds: its IR, its automaton and every mask entry computed so far.

        Counted: the grammar's IR (rules and expressions, shared with the
        :class:`Grammar` it was compiled from), the automaton's arrays, the
        per-state entries, the entries re-decided per caller context and the
        expanded crossing-token sets (both grow as matchers meet new contexts), and
        the per-state memos. Not counted: the tokenizer info, which is shared, and
        the process-wide shared mask store (:func:`xgram.shared_mask_cache_info`).
        """
        return int(self._handle.memory_size_bytes)

    @property
    def num_cached_states(self) -> int:
        """Number of automaton states whose token masks are computed."""
        return int(self._handle.num_cached_states)

    def precompute(self, num_threads: int = 1) -> None:
        """Compute every token-mask cache entry now, on ``num_threads`` threads."""
        threads = integer_argument(num_threads, "num_threads")
        if not 1 <= threads <= 1024:
            raise UsageError(f"num_threads must be in [1, 1024], got {threads}")
        self._handle.precompute(threads)

    def serialize_json(self) -> str:
        """The compiled grammar and its computed mask entries, as versioned JSON.

        Load it with :meth:`deserialize_json` and the same tokenizer.
        """
        return json.dumps(
            {
                "__VERSION__": _SERIAL_VERSION,
                "grammar": str(self._grammar),
                "root_rule_name": self._grammar.root_rule_name,
                "tokenizer_fingerprint": f"{self._tokenizer_info._handle.fingerprint:016x}",
                "vocab_size": self._tokenizer_info.vocab_size,
                "automaton_fingerprint": f"{self._handle.automaton_fingerprint:016x}",
                "byteorder": sys.byteorder,
                "entries": base64.b64encode(self._handle.export_entries()).decode("ascii"),
            }
        )

    @staticmethod
    def deserialize_json(data: str, tokenizer_info: TokenizerInfo) -> CompiledGrammar:
        """Rebuild a compiled grammar serialised by :meth:`serialize_json`.

        Raises
        ------
        UsageError
            If the data is from another xgram version, another tokenizer or corrupt.

        """
        if not isinstance(data, (str, bytes, bytearray)):
            raise ArgumentTypeError(f"data must be str, got {type(data).__name__}")
        _check_tokenizer_info(tokenizer_info)
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"serialized compiled grammar is not valid JSON: {exc}") from None
        version = obj.get("__VERSION__") if isinstance(obj, dict) else None
        if version != _SERIAL_VERSION:
            raise UsageError(
                f"serialized compiled grammar has version {version!r}; "
                f"this xgram reads {_SERIAL_VERSION!r}"
            )
        fingerprint = f"{tokenizer_info._handle.fingerprint:016x}"
        if (
            obj.get("tokenizer_fingerprint") != fingerprint
            or obj.get("vocab_size") != tokenizer_info.vocab_size
        ):
            raise UsageError("the compiled grammar was serialized for a different tokenizer")
        text = _serialized_text(obj, "grammar")
        root = _serialized_text(obj, "root_rule_name", "root")
        try:
            grammar = Grammar(_core.Grammar.from_ebnf(text, root, False))
            handle = _core.CompiledGrammar(grammar._handle, tokenizer_info._handle)
            same_automaton = (
                obj.get("automaton_fingerprint") == f"{handle.automaton_fingerprint:016x}"
            )
            if same_automaton and obj.get("byteorder") == sys.byteorder:
                entries = _serialized_text(obj, "entries")
                handle.import_entries(base64.b64decode(entries, validate=True))
        except ValueError as exc:  # the grammar does not parse, the base64 is broken
            if isinstance(exc, UsageError):
                raise
            raise UsageError(f"serialized compiled grammar is corrupt: {exc}") from None
        # Otherwise the entries are recomputed on first use: slower, still exact.
        return CompiledGrammar(handle, grammar, tokenizer_info)

    def __repr__(self) -> str:
        return (
            f"<xgram.CompiledGrammar states={self._handle.num_states} "
            f"cached={self.num_cached_states} bytes={self.memory_size_bytes}>"
        )


class GrammarCompiler:
    """Compiles grammars for one tokenizer, with an LRU cache bounded in bytes.

    Parameters
    ----------
    tokenizer_info : TokenizerInfo
    max_threads : int, default 8
        Threads used to precompute token-mask caches.
    cache_enabled : bool, default True
        Reuse compiled grammars for identical inputs.
    cache_limit_bytes : int, default -1
        Upper bound of the cache's memory (-1: unbounded), as
        :attr:`CompiledGrammar.memory_size_bytes` counts it. It holds after every
        compile call; between calls, cached grammars grow as matchers compute
        their mask entries, and the next call evicts the least recently used.
    precompute : bool, default False
        Compute all token-mask entries at compile time instead of on first use.

    """

    def __init__(
        self,
        tokenizer_info: TokenizerInfo,
        *,
        max_threads: int = 8,
        cache_enabled: bool = True,
        cache_limit_bytes: int = -1,
        precompute: bool = False,
    ) -> None:
        _check_tokenizer_info(tokenizer_info)
        self.tokenizer_info = tokenizer_info
        self.max_threads = min(max(1, integer_argument(max_threads, "max_threads")), 1024)
        self.cache_enabled = cache_enabled
        self.cache_limit_bytes = integer_argument(cache_limit_bytes, "cache_limit_bytes")
        if self.cache_limit_bytes < -1:
            raise UsageError(
                f"cache_limit_bytes must be -1 (unbounded) or >= 0, got {cache_limit_bytes}"
            )
        self.precompute = precompute
        self._cache: OrderedDict[Tuple[str, str], CompiledGrammar] = OrderedDict()
        self._lock = threading.Lock()

    def compile_grammar(
        self,
        grammar: Union[Grammar, str],
        *,
        root_rule_name: str = "root",
        max_seconds: Optional[float] = None,
        cancel: Optional[CancellationToken] = None,
    ) -> CompiledGrammar:
        """Compile a :class:`Grammar` or EBNF text.

        Every ``compile_*`` method takes ``max_seconds`` and ``cancel``.

        Parameters
        ----------
        grammar : Grammar or str
            The grammar, or its EBNF text.
        root_rule_name : str, default "root"
            The root rule of EBNF text.
        max_seconds : float, optional
            Wall-clock budget of the whole call, from its start: conversion,
            parsing, the automaton and any precomputation (default: the
            process-wide budget, :func:`xgram.set_compile_limits`).
        cancel : CancellationToken, optional
            Cancels the call from another thread.

        Raises
        ------
        GrammarError
            For a malformed grammar.
        CompileBudgetError
            When the compile exceeds its budgets (states, ``max_seconds``).
        CompileCancelledError
            When ``cancel`` was cancelled (a subclass of CompileBudgetError).

        """
        if not isinstance(root_rule_name, str):
            raise ArgumentTypeError(
                f"root_rule_name must be str, got {type(root_rule_name).__name__}"
            )
        if isinstance(grammar, str):
            text = grammar
            return self._cached(
                lambda: ("ebnf:" + root_rule_name, text),
                lambda: Grammar.from_ebnf(text, root_rule_name=root_rule_name),
                max_seconds,
                cancel,
            )
        if isinstance(grammar, Grammar):
            grammar_obj = grammar
            return self._cached(
                lambda: ("grammar", str(grammar_obj)), lambda: grammar_obj, max_seconds, cancel
            )
        raise ArgumentTypeError(
            f"grammar must be an xgram.Grammar or EBNF str, got {type(grammar).__name__}"
        )

    def _build(self, grammar: Grammar) -> CompiledGrammar:
        handle = _core.CompiledGrammar(grammar._handle, self.tokenizer_info._handle)
        if self.precompute:
            handle.precompute(self.max_threads)
        return CompiledGrammar(handle, grammar, self.tokenizer_info)

    def compile_regex(
        self,
        pattern: str,
        *,
        max_seconds: Optional[float] = None,
        cancel: Optional[CancellationToken] = None,
    ) -> CompiledGrammar:
        """Compile a regular expression (see :meth:`Grammar.from_regex`)."""
        return self._cached(
            lambda: ("regex", pattern) if isinstance(pattern, str) else None,  # else it raises
            lambda: Grammar.from_regex(pattern),
            max_seconds,
            cancel,
        )

    def compile_json_schema(
        self,
        schema: Any,
        *,
        any_whitespace: bool = True,
        indent: Optional[int] = None,
        separators: Optional[Tuple[str, str]] = None,
        strict_mode: bool = True,
        max_whitespace_cnt: Optional[int] = None,
        lenient: bool = False,
        general_unicode_escapes: bool = False,
        any_order: bool = False,
        refs: Optional[Mapping[str, Any]] = None,
        max_seconds: Optional[float] = None,
        cancel: Optional[CancellationToken] = None,
    ) -> CompiledGrammar:
        """Compile a JSON schema (options as :meth:`Grammar.from_json_schema`).

        ``refs`` (the documents remote references point to) is part of the cache
        key: the same schema with other documents behind its references is
        another grammar.

        Raises
        ------
        SchemaError
            When the schema cannot be turned into an exact grammar.

        """
        options = JsonSchemaOptions(
            any_whitespace=any_whitespace,
            indent=indent,
            separators=separators,
            strict_mode=strict_mode,
            max_whitespace_cnt=max_whitespace_cnt,
            lenient=lenient,
            general_unicode_escapes=general_unicode_escapes,
            any_order=any_order,
        )
        # Imported on first use, as in Grammar.from_json_schema ('import xgram' stays light).
        from .json_schema.convert import json_schema_grammar_handle  # noqa: PLC0415

        def cache_key() -> Optional[Tuple[str, str]]:  # a serialisation of the schema
            text = schema if isinstance(schema, str) else None
            if text is None and isinstance(schema, (dict, bool)):
                text = _json_key(schema)
            refs_text = _refs_key(refs)
            if text is None or refs_text is None:
                return None
            return ("json_schema:" + options.cache_key() + refs_text, text)

        return self._cached(
            cache_key,
            lambda: Grammar(json_schema_grammar_handle(schema, options, refs, stacklevel=2)),
            max_seconds,
            cancel,
        )

    def compile_structural_tag(
        self,
        structural_tag: Any,
        triggers: Optional[Any] = None,
        *,
        lenient: bool = False,
        max_seconds: Optional[float] = None,
        cancel: Optional[CancellationToken] = None,
    ) -> CompiledGrammar:
        """Compile a structural tag (see :meth:`Grammar.from_structural_tag`)."""

        def cache_key() -> Optional[Tuple[str, str]]:
            text = structural_tag if isinstance(structural_tag, str) else None
            if text is None and triggers is None and isinstance(structural_tag, dict):
                text = _json_key(structural_tag, sort_keys=True)
            return None if text is None else ("structural_tag:" + repr(lenient), text)

        return self._cached(
            cache_key,
            lambda: Grammar.from_structural_tag(
                structural_tag, triggers, lenient=lenient, tokenizer_info=self.tokenizer_info
            ),
            max_seconds,
            cancel,
        )

    def compile_lark(
        self,
        lark_string: str,
        *,
        max_seconds: Optional[float] = None,
        cancel: Optional[CancellationToken] = None,
    ) -> CompiledGrammar:
        """Compile a Lark grammar (see :meth:`Grammar.from_lark`)."""
        if not isinstance(lark_string, str):  # before it becomes a cache key
            raise ArgumentTypeError(f"lark_string must be str, got {type(lark_string).__name__}")
        return self._cached(
            lambda: ("lark", lark_string),
            lambda: Grammar.from_lark(lark_string),
            max_seconds,
            cancel,
        )

    def _cached(
        self,
        cache_key: Callable[[], Optional[Tuple[str, str]]],
        make: Callable[[], Grammar],
        max_seconds: Optional[float],
        cancel: Optional[CancellationToken],
    ) -> CompiledGrammar:
        """The grammar for ``cache_key()`` from the cache, or ``make()`` compiled and cached.

        The whole call, the cache key and lookup included, is one compile
        (``compile_scope``): its deadline counts from here. A key of None: not cached.
        """
        with compile_scope(max_seconds, cancel):
            key = cache_key() if self.cache_enabled else None
            return self._lookup_or_build(key, make)

    def _lookup_or_build(
        self, key: Optional[Tuple[str, str]], make: Callable[[], Grammar]
    ) -> CompiledGrammar:
        if key is not None:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    # Cached grammars grow as their matchers compute mask entries:
                    # every compile call, hit or miss, brings the cache back under
                    # its limit (least recently used first).
                    self._evict()
                    return hit
        compiled = self._build(make())
        if key is not None:  # None when the cache is off
            with self._lock:
                self._cache[key] = compiled
                self._evict()
        return compiled

    def compile_builtin_json_grammar(
        self, *, max_seconds: Optional[float] = None, cancel: Optional[CancellationToken] = None
    ) -> CompiledGrammar:
        """Compile the builtin ECMA-404 JSON grammar."""
        return self.compile_grammar(
            Grammar.builtin_json_grammar(), max_seconds=max_seconds, cancel=cancel
        )

    def clear_cache(self) -> None:
        """Drop every cached compiled grammar."""
        with self._lock:
            self._cache.clear()

    def get_cache_size_bytes(self) -> int:
        """Memory held by cached compiled grammars."""
        with self._lock:
            return sum(c.memory_size_bytes for c in self._cache.values())

    def _evict(self) -> None:
        if self.cache_limit_bytes < 0:
            return
        total = sum(c.memory_size_bytes for c in self._cache.values())
        while self._cache and total > self.cache_limit_bytes:
            _, old = self._cache.popitem(last=False)
            total -= old.memory_size_bytes
