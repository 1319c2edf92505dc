"""The :class:`Grammar` class: grammars from EBNF text and string-level checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Literal, Mapping, Optional, Tuple

from . import _core
from ._compile_scope import compile_scope
from .errors import ArgumentTypeError, UsageError, lone_surrogate_error
from .grammar_text import TextLike, as_bytes, handle_accepts, parse_ebnf, parse_regex
from .schema_options import JsonSchemaOptions

# The converters behind from_json_schema, from_structural_tag and from_lark are
# imported on first use: 'import xgram' stays light. None of them imports this
# module (they work on the core's grammar handle, see xgram.grammar_text).

_STATUS = {0: "accepted", 1: "prefix", 2: "rejected"}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :meth:`Grammar.check` on one input.

    Attributes
    ----------
    status : {"accepted", "prefix", "rejected"}
        ``accepted``: the whole input is in the language; ``prefix``: it is not,
        but some continuation is; ``rejected``: no continuation is.
    offset : int
        For ``rejected``, the byte offset of the first byte that cannot follow;
        otherwise the input length in bytes.
    line, column : int
        1-based position of ``offset`` in the input (column counts code points).

    """

    status: Literal["accepted", "prefix", "rejected"]
    offset: int
    line: int
    column: int


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    line_start = data.rfind(b"\n", 0, offset) + 1
    # Columns count code points: skip UTF-8 continuation bytes. A byte inside a
    # character belongs to the column of the character's first byte.
    column = 1 + sum(1 for b in data[line_start:offset] if (b & 0xC0) != 0x80)
    if offset < len(data) and (data[offset] & 0xC0) == 0x80 and offset > line_start:
        column -= 1
    return line, column


class Grammar:
    """A context-free grammar, normalised and ready to compile.

    Build one with :meth:`from_ebnf`, :meth:`builtin_json_grammar`,
    :meth:`union` or :meth:`concat`. ``str(grammar)`` prints EBNF that parses
    back to an equivalent grammar.
    """

    __slots__ = ("_handle",)

    def __init__(self, handle: _core.Grammar) -> None:
        if not isinstance(handle, _core.Grammar):
            raise TypeError(
                "use Grammar.from_ebnf(...) or Grammar.builtin_json_grammar() to make a Grammar"
            )
        self._handle = handle

    # Construction -----------------------------------------------------------
    @staticmethod
    def from_ebnf(ebnf_string: str, *, root_rule_name: str = "root") -> Grammar:
        """Parse a grammar in xgram's EBNF dialect (a superset of GBNF).

        Parameters
        ----------
        ebnf_string : str
            The grammar text; see the README for the dialect.
        root_rule_name : str, default "root"
            The rule the whole input must match.

        Raises
        ------
        GrammarError
            With line, column and a caret under the problem (a lone surrogate too).
        ArgumentTypeError
            If ``ebnf_string`` or ``root_rule_name`` is not ``str`` (bytes included).

        """
        _check_str(ebnf_string, "ebnf_string")
        _check_rule_name(root_rule_name)
        with compile_scope():
            return Grammar(parse_ebnf(ebnf_string, root_rule_name))

    @staticmethod
    def from_regex(pattern: str) -> Grammar:
        r"""A grammar matching exactly the strings that ``pattern`` matches in full.

        ECMA-262 / Python syntax: classes, ``\d \w \s`` and negations, escapes incl.
        ``\uXXXX``, quantifiers incl. ``{m,n}`` and lazy forms, groups (capturing,
        non-capturing, named), alternation, ``^``/``$`` at the ends. ``.`` matches any
        character but a line terminator (ECMA-262).

        Raises
        ------
        GrammarError
            For syntax errors and unsupported constructs (lookaround,
            backreferences, word boundaries, inline flags), with their column.

        """
        _check_str(pattern, "pattern")
        with compile_scope():
            return Grammar(parse_regex(pattern))

    @staticmethod
    def from_json_schema(
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
    ) -> Grammar:
        r"""A grammar for the JSON texts valid under a JSON Schema (draft 2020-12 / draft-07).

        Parameters
        ----------
        schema : str, dict, bool or pydantic model class
            The schema, as JSON text or parsed.
        any_whitespace : bool, default True
            Allow insignificant whitespace between tokens (at most
            ``max_whitespace_cnt`` characters in a row). When False, the layout is
            fixed by ``indent`` and ``separators``, as ``json.dumps`` writes it.
        indent : int, optional
            With ``any_whitespace=False``: newline and this many spaces per level.
        separators : (str, str), optional
            With ``any_whitespace=False``: the item and key separators; default
            ``(", ", ": ")``, or ``(",", ": ")`` with ``indent``.
        strict_mode : bool, default True
            As in XGrammar: objects that declare their members (``properties``,
            ``required``, ``patternProperties``) without ``additionalProperties``, and
            arrays with ``prefixItems`` but no ``items``, admit nothing undeclared; an
            object that declares none (``{"type": "object"}``) stays open. False gives
            the schema's exact semantics.
        max_whitespace_cnt : int, optional
            Longest whitespace run with ``any_whitespace`` (default 64).
        lenient : bool, default False
            Drop constraints that cannot be enforced exactly instead of raising;
            each one is reported with a :class:`xgram.SchemaRelaxedWarning`.
        any_order : bool, default False
            Let an object's properties come in any order (default: schema order,
            declared properties first, then additional ones).
        general_unicode_escapes : bool, default False
            Also accept ``\\uXXXX`` spellings of ordinary characters in patterns,
            formats, constants and keys (they are always accepted in free text).
        refs : mapping of str to schema, optional
            The documents remote references point to, by absolute URI (e.g.
            ``{"https://example.com/address.json": {...}}``); each is read as if
            retrieved from that URI, and may refer to the others or back. Nothing is
            ever fetched: a reference to a document not given here is a
            :class:`SchemaError` naming its URI.

        Raises
        ------
        SchemaError
            Naming the keyword and its JSON pointer, for malformed schemas,
            schemas no value satisfies, and constraints no exact grammar expresses.

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
        from .json_schema.convert import json_schema_grammar_handle  # noqa: PLC0415

        with compile_scope():
            return Grammar(json_schema_grammar_handle(schema, options, refs))

    @staticmethod
    def from_structural_tag(
        structural_tag: Any,
        triggers: Optional[List[str]] = None,
        *,
        lenient: bool = False,
        tokenizer_info: Any = None,
    ) -> Grammar:
        """A grammar for a structural tag (XGrammar 0.2.9's JSON form): tagged tool calls.

        ``structural_tag`` is ``{"type": "structural_tag", "format": {...}}`` or a bare
        format, as a dict or JSON text; or, with ``triggers``, the legacy list of
        ``{"begin", "schema", "end"}`` tags. Token formats given by text need
        ``tokenizer_info`` to resolve them. See :mod:`xgram.structural_tag`.

        Raises
        ------
        StructuralTagError
            For a malformed tag, or one that cannot be enforced exactly
            (``exclude_token``, token budgets), with the JSON pointer of the format.

        """
        from ._structural_tag_lowering import structural_tag_grammar_handle  # noqa: PLC0415

        with compile_scope():
            handle = structural_tag_grammar_handle(
                structural_tag, triggers, lenient=lenient, tokenizer_info=tokenizer_info
            )
        return Grammar(handle)

    @staticmethod
    def from_lark(lark_string: str) -> Grammar:
        """A grammar from Lark syntax (entry rule ``start``); see :mod:`xgram.lark`.

        Raises
        ------
        GrammarError
            For syntax errors and Lark features xgram does not support, with their line.

        """
        _check_str(lark_string, "lark_string")
        from ._lark_lowering import lark_grammar_handle  # noqa: PLC0415

        with compile_scope():
            return Grammar(lark_grammar_handle(lark_string))

    @staticmethod
    def builtin_json_grammar() -> Grammar:
        """The JSON grammar of ECMA-404: any JSON value, surrounded by whitespace."""
        return Grammar(_core.Grammar.builtin_json())

    @staticmethod
    def union(*grammars: Grammar) -> Grammar:
        """A grammar accepting what any of ``grammars`` accepts (at least one)."""
        if not grammars:
            raise UsageError("Grammar.union needs at least one grammar")
        return Grammar(_core.Grammar.union(_handles(grammars, "union")))

    @staticmethod
    def concat(*grammars: Grammar) -> Grammar:
        """A grammar accepting the concatenation of ``grammars``, in order."""
        return Grammar(_core.Grammar.concat(_handles(grammars, "concat")))

    # Inspection --------------------------------------------------------------
    def __str__(self) -> str:
        return self._handle.to_string()

    def __repr__(self) -> str:
        return f"<xgram.Grammar root={self.root_rule_name!r} rules={len(self.rule_names)}>"

    @property
    def root_rule_name(self) -> str:
        """Name of the root rule."""
        return self._handle.root_rule_name()

    @property
    def rule_names(self) -> List[str]:
        """Names of the rules after normalisation, in order."""
        return self._handle.rule_names()

    def automaton_stats(self) -> Dict[str, int]:
        """Size of the compiled automaton: states, edges, rules (builds it once)."""
        return dict(self._handle.automaton_stats())

    # Matching ------------------------------------------------------------------
    def check(self, text: TextLike) -> CheckResult:
        """Run ``text`` through the grammar and report where it stands.

        Parameters
        ----------
        text : str or bytes
            ``str`` is encoded as UTF-8.

        """
        data = _input_bytes(text)
        status, offset = self._handle.match(data)
        line, column = _position(data, offset)
        return CheckResult(_STATUS[status], offset, line, column)

    def accepts(self, text: TextLike) -> bool:
        """True when the whole of ``text`` is in the grammar's language."""
        return handle_accepts(self._handle, _input_bytes(text))

    def accepts_prefix(self, text: TextLike) -> bool:
        """True when some continuation of ``text`` is in the language."""
        return self._handle.match(_input_bytes(text))[0] != 2


def _handles(grammars: Tuple[Any, ...], method: str) -> List[_core.Grammar]:
    """The core handles of ``grammars``, or ArgumentTypeError naming the first that is not one."""
    for position, g in enumerate(grammars):
        if not isinstance(g, Grammar):
            raise ArgumentTypeError(
                f"Grammar.{method}: argument {position} must be an xgram.Grammar, "
                f"got {type(g).__name__}"
            )
    return [g._handle for g in grammars]


def _check_str(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be str, got {type(value).__name__}")


def _check_rule_name(root_rule_name: Any) -> None:
    """``root_rule_name`` is a ``str`` that UTF-8 can encode (the core takes UTF-8)."""
    _check_str(root_rule_name, "root_rule_name")
    try:
        root_rule_name.encode("utf-8")
    except UnicodeEncodeError:
        raise lone_surrogate_error(root_rule_name, "root_rule_name") from None


def _input_bytes(text: TextLike) -> bytes:
    """``text`` as bytes for matching; a ``str`` with a lone surrogate is a UsageError."""
    try:
        return as_bytes(text)
    except UnicodeEncodeError:
        raise lone_surrogate_error(text, "text") from None  # type: ignore[arg-type]
    except TypeError:
        raise ArgumentTypeError(f"text must be str or bytes, got {type(text).__name__}") from None
