"""Malformed grammars: each must raise GrammarError at the right place.

Every case gives the grammar text, the expected 1-based (line, column) of the
problem (column counts code points) and a substring of the message. The
positions below were chosen by hand to point at the actual problem; they are
not copied from xgram's output.

Besides `.line` / `.column`, each located error is checked for the message
layout::

    line L, column C: <what was expected>
      <the source line>
      <padding>^

with the caret under column C of the quoted line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

import pytest

import xgram


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int
    column: int
    message: str
    # The character the caret must point at (None: the end of the line/text).
    at: Optional[str] = None
    kwargs: Dict[str, str] = field(default_factory=dict)


CASES = [
    # --- strings -------------------------------------------------------------
    Case("unterminated-string", 'root ::= "abc', 1, 10, "unterminated string", at='"'),
    Case(
        "unterminated-string-line-3",
        'root ::= a\na ::= b\nb ::= "xyz',
        3,
        7,
        "unterminated string",
        at='"',
    ),
    Case("raw-newline-in-string", 'root ::= "ab\nc"', 1, 10, "unterminated string", at='"'),
    Case("raw-cr-in-string", 'root ::= "ab\rc"', 1, 10, "unterminated string", at='"'),
    Case("single-quoted-string", "root ::= 'a'", 1, 10, "double quotes", at="'"),
    # --- escapes -------------------------------------------------------------
    Case("unknown-escape-q", r'root ::= "\q"', 1, 11, "unknown escape", at="\\"),
    Case("unknown-escape-in-class", r"root ::= [\d]", 1, 11, "unknown escape", at="\\"),
    Case("short-hex-x", r'root ::= "\x4"', 1, 14, "hex digits", at='"'),
    Case("short-hex-x-in-class", r"root ::= [\x4]", 1, 14, "hex digits", at="]"),
    Case("short-hex-u", r'root ::= "\u12"', 1, 15, "hex digits", at='"'),
    Case("bad-hex-digit-u", r'root ::= "\u12g4"', 1, 15, "hex digits", at="g"),
    Case("codepoint-too-large", r'root ::= "\UFFFFFFFF"', 1, 11, "invalid code point", at="\\"),
    Case("codepoint-above-10ffff", r"root ::= [\U00110000]", 1, 11, "invalid code point", at="\\"),
    Case("surrogate-escape", r'root ::= "\uD800"', 1, 11, "surrogate", at="\\"),
    Case("surrogate-escape-in-class", r"root ::= [a\uDFFF]", 1, 12, "surrogate", at="\\"),
    Case("unfinished-escape-at-end", 'root ::= "\\', 1, 11, "escape", at="\\"),
    # --- character classes ---------------------------------------------------
    Case("unterminated-class", "root ::= [abc", 1, 10, "unterminated character class", at="["),
    Case(
        "unterminated-class-newline",
        "root ::= [a-\n]",
        1,
        10,
        "unterminated character class",
        at="[",
    ),
    Case("empty-class", "root ::= []", 1, 10, "empty character class", at="["),
    Case("reversed-range", "root ::= [z-a]", 1, 11, "out of order", at="z"),
    Case("reversed-range-second-item", "root ::= [0-9z-a]", 1, 14, "out of order", at="z"),
    Case(
        "class-matching-nothing",
        r"root ::= [^\x00-\U0010FFFF]",
        1,
        10,
        "matches no character",
        at="[",
    ),
    # --- rule structure ------------------------------------------------------
    Case("missing-defines", 'root "a"', 1, 6, "expected '::='", at='"'),
    Case("defines-without-name", '::= "a"', 1, 1, "name", at=":"),
    Case("defines-without-name-line-2", 'root ::= "a"\n::= "b"', 2, 1, "name", at=":"),
    Case("defines-without-name-indented", 'root ::= "a"\n\n   ::= "b"', 3, 4, "name", at=":"),
    Case("defines-mid-rule", 'root ::= "a" ::= "b"', 1, 14, "::=", at=":"),
    Case("undefined-rule", "root ::= foo", 1, 10, "'foo' is not defined", at="f"),
    Case("undefined-rule-first-use", 'root ::= "x" foo foo', 1, 14, "'foo' is not defined", at="f"),
    Case(
        "undefined-rule-line-2",
        'root ::= "a" foo\nfoo ::= "b" bar',
        2,
        13,
        "'bar' is not defined",
        at="b",
    ),
    Case(
        "undefined-rule-in-lookahead", 'root ::= "a" (= zz)', 1, 17, "'zz' is not defined", at="z"
    ),
    Case("duplicate-rule", 'root ::= "a"\nroot ::= "b"', 2, 1, "defined twice", at="r"),
    Case(
        "duplicate-rule-line-3",
        'a ::= "x"\nroot ::= a\na  ::= "y"',
        3,
        1,
        "first definition at line 1, column 1",
        at="a",
    ),
    Case("empty-grammar", "", 1, 1, "empty"),
    Case("whitespace-only-grammar", "  \n\t\n", 3, 1, "empty"),
    Case("comment-only-grammar", "# just a comment\n  # another\n", 3, 1, "empty"),
    # --- grouping ------------------------------------------------------------
    Case("unmatched-open-paren", 'root ::= ("a"', 1, 14, "expected ')'"),
    Case(
        "unmatched-open-paren-mentions-opening",
        'root ::= ("a" "b"',
        1,
        18,
        "opened at line 1, column 10",
    ),
    Case(
        "unclosed-paren-before-next-rule",
        'root ::= ( "a" \nfoo ::= "b"',
        2,
        1,
        "expected ')'",
        at="f",
    ),
    Case("unmatched-close-paren", 'root ::= "a")', 1, 13, "unmatched ')'", at=")"),
    Case(
        "unmatched-close-paren-line-3",
        'root ::= a\na ::= "x"\n  | "y" )',
        3,
        9,
        "unmatched ')'",
        at=")",
    ),
    Case("bad-element", 'root ::= "a" @', 1, 14, "found '@'", at="@"),
    Case(
        "bad-element-after-alternative-line-3",
        'root ::= "a"\n  | "b"\n  | @',
        3,
        5,
        "found '@'",
        at="@",
    ),
    Case("missing-defines-later-line", 'root ::= x\nx ::= "a"\ny = "b"', 3, 3, "found '='", at="="),
    # --- quantifiers ---------------------------------------------------------
    Case("star-with-nothing-to-repeat", 'root ::= *"a"', 1, 10, "nothing to repeat", at="*"),
    Case("plus-after-bar", 'root ::= "a" | +', 1, 16, "nothing to repeat", at="+"),
    Case("question-at-group-start", 'root ::= (?"a")', 1, 11, "nothing to repeat", at="?"),
    Case("open-brace-at-end", 'root ::= "a"{', 1, 14, "lower bound"),
    Case("brace-with-letter", 'root ::= "a"{a}', 1, 14, "lower bound", at="a"),
    Case("brace-negative", 'root ::= "a"{-1}', 1, 14, "lower bound", at="-"),
    Case(
        "brace-reversed-bounds", 'root ::= "a"{2,1}', 1, 16, "smaller than the lower bound", at="1"
    ),
    Case("brace-unclosed", 'root ::= "a"{1,2', 1, 17, "expected '}'"),
    Case(
        "brace-unclosed-mentions-opening",
        'root ::= "a"{1,2 "b"',
        1,
        18,
        "opened at line 1, column 13",
        at='"',
    ),
    Case("brace-missing-comma", 'root ::= "a"{2 3}', 1, 16, "expected ',' or '}'", at="3"),
    Case("brace-huge-bound", 'root ::= "a"{99999999999}', 1, 14, "too large", at="9"),
    Case("brace-huge-upper-bound", 'root ::= "a"{1,99999999999}', 1, 16, "too large", at="9"),
    # --- lookahead -----------------------------------------------------------
    Case("lookahead-not-at-end", 'root ::= "a" (= "b") "c"', 1, 22, "must end its rule", at='"'),
    Case("two-lookaheads", 'root ::= "a" (= "b") (= "c")', 1, 22, "must end its rule", at="("),
    Case(
        "lookahead-before-alternative",
        'root ::= "a" (= "b") | "c"',
        1,
        22,
        "must end its rule",
        at="|",
    ),
    Case("lookahead-unclosed", 'root ::= "a" (= "b"', 1, 20, "expected ')'"),
    Case(
        "lookahead-unclosed-before-next-rule",
        'root ::= "a" (= "b"\nfoo ::= "c"',
        2,
        1,
        "expected ')'",
        at="f",
    ),
    Case("lookahead-bad-element", 'root ::= "a" (= @)', 1, 17, "found '@'", at="@"),
    # --- positions after UTF-8, tabs and CRLF ----------------------------------
    Case("utf8-before-error", 'root ::= "αβγ" @', 1, 16, "found '@'", at="@"),
    Case("utf8-emoji-before-error", 'root ::= "😀😀" [z-a]', 1, 16, "out of order", at="z"),
    Case(
        "utf8-error-line-3",
        'root ::= a\na ::= "é"\nb ::= "日本語" [z-a]',
        3,
        14,
        "out of order",
        at="z",
    ),
    Case("utf8-bad-escape", 'root ::= "日本" [\\x4]', 1, 19, "hex digits", at="]"),
    Case("tab-before-error", 'root ::=\t"a"\t@', 1, 14, "found '@'", at="@"),
    Case("crlf-line-endings", 'root ::= "a"\r\nfoo ::= "b" @\r\n', 2, 13, "found '@'", at="@"),
    Case(
        "error-on-line-5",
        '# header\n\nroot ::= item+\nitem ::= "x"\n  | [z-a]',
        5,
        6,
        "out of order",
        at="z",
    ),
]


def _raise(case: Case) -> xgram.GrammarError:
    with pytest.raises(xgram.GrammarError) as info:
        xgram.Grammar.from_ebnf(case.text, **case.kwargs)
    return info.value


def _check_layout(
    err: xgram.GrammarError, text: str, line: int, column: int, at: Optional[str]
) -> None:
    message = str(err)
    assert message.startswith(f"line {line}, column {column}: "), message
    parts = message.split("\n")
    assert len(parts) >= 3, message
    quoted, caret_line = parts[-2], parts[-1]
    source_lines = text.split("\n")
    source_line = source_lines[line - 1] if line - 1 < len(source_lines) else ""
    # The quoted line is the source line (a trailing CR of a CRLF file may go).
    assert quoted.startswith("  "), message
    assert quoted[2:].rstrip("\r") == source_line.rstrip("\r"), message
    assert caret_line.startswith("  ") and caret_line.endswith("^"), message
    pad = caret_line[2:-1]
    # The caret is under column C: C-1 code points of padding, tabs kept as tabs so
    # it lines up in a terminal.
    assert len(pad) == column - 1, message
    assert set(pad) <= {" ", "\t"}, message
    for i, ch in enumerate(pad):
        assert (ch == "\t") == (source_line[i] == "\t"), message
    if at is not None:
        assert column - 1 < len(source_line), message
        assert source_line[column - 1] == at, message


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_located_error(case: Case) -> None:
    err = _raise(case)
    assert isinstance(err, ValueError)
    assert (err.line, err.column) == (case.line, case.column), str(err)
    assert case.message in str(err)
    _check_layout(err, case.text, case.line, case.column, case.at)


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 35
    assert len({c.id for c in CASES}) == len(CASES)


# --- errors without a location ----------------------------------------------------


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ('foo ::= "a"', {}, "'root'"),
        ('root ::= "a"', {"root_rule_name": "start"}, "'start'"),
        ('main ::= "a"\nroot2 ::= main', {"root_rule_name": "root"}, "'root'"),
    ],
    ids=["missing-root", "custom-root-missing", "root-prefix-name-is-not-root"],
)
def test_missing_root_rule(text: str, kwargs: Dict[str, str], message: str) -> None:
    with pytest.raises(xgram.GrammarError) as info:
        xgram.Grammar.from_ebnf(text, **kwargs)
    err = info.value
    assert (err.line, err.column) == (0, 0)
    assert message in str(err)
    assert "root rule" in str(err)
    assert not str(err).startswith("line ")


def test_custom_root_present_is_fine() -> None:
    g = xgram.Grammar.from_ebnf('start ::= "a"', root_rule_name="start")
    assert g.accepts("a")


# --- errors raised when the automaton is built -------------------------------------


def _build_error(text: str) -> xgram.GrammarError:
    """The error may come from from_ebnf or when the automaton is built."""
    with pytest.raises(xgram.GrammarError) as info:
        g = xgram.Grammar.from_ebnf(text)
        g.automaton_stats()
    return info.value


# (text, message, acceptable (line, column) values). Errors found while building
# the automaton may have no location (0, 0); when one is given it must be right.
BUILD_CASES = [
    ("accepts-no-string", 'root ::= "a" root', "accepts no string", {(0, 0), (1, 1)}),
    ("accepts-no-string-via-helper", "root ::= x\nx ::= x", "accepts no string", {(0, 0), (1, 1)}),
    (
        "accepts-no-string-mutual",
        'root ::= "(" a ")"\na ::= "[" root "]"',
        "accepts no string",
        {(0, 0), (1, 1)},
    ),
    (
        "recursive-lookahead",
        'root ::= a "x"\na ::= "y" (= b)\nb ::= "z" b | "z"',
        "recursive",
        {(0, 0), (2, 14)},
    ),
    (
        "recursive-lookahead-indirect",
        'root ::= a "x"\na ::= "y" (= b)\nb ::= "z" c\nc ::= b | "q"',
        "recursive",
        {(0, 0), (2, 14)},
    ),
]


@pytest.mark.parametrize(
    "text, message, positions", [c[1:] for c in BUILD_CASES], ids=[c[0] for c in BUILD_CASES]
)
def test_build_time_error(text: str, message: str, positions: set) -> None:
    err = _build_error(text)
    assert message in str(err)
    assert (err.line, err.column) in positions, str(err)
    if err.line:
        _check_layout(err, text, err.line, err.column, None)


def test_self_referencing_lookahead_is_rejected() -> None:
    # `a` asserts that it is followed by another `a`, which asserts the same, and so
    # on: the lookahead is recursive (no finite text can satisfy it). It must be
    # reported, at parse time or when the automaton is built.
    err = _build_error('root ::= a "x"\na ::= "y" (= a)')
    assert "lookahead" in str(err)


def test_accepts_no_string_is_raised_by_accepts_too() -> None:
    g = xgram.Grammar.from_ebnf('root ::= "a" root')
    with pytest.raises(xgram.GrammarError):
        g.accepts("")
    with pytest.raises(xgram.GrammarError):
        g.accepts("aaaa")


def test_productive_alternative_is_not_an_error() -> None:
    # `x` never ends, but root can still match "a": not an error.
    g = xgram.Grammar.from_ebnf('root ::= "a" | x\nx ::= x "b"')
    g.automaton_stats()
    assert g.accepts("a")
    assert not g.accepts("ab")


# --- other error properties ----------------------------------------------------


def test_grammar_error_is_value_error_with_attributes() -> None:
    with pytest.raises(ValueError) as info:
        xgram.Grammar.from_ebnf('root ::= "a')
    err = info.value
    assert isinstance(err, xgram.GrammarError)
    assert isinstance(err, xgram.XgramError)
    assert isinstance(err.line, int) and isinstance(err.column, int)


def test_control_character_is_named_visibly() -> None:
    # A raw control character in the grammar must be described legibly, not echoed
    # raw (which renders as nothing: "found ''").
    with pytest.raises(xgram.GrammarError) as info:
        xgram.Grammar.from_ebnf('root ::= "a" \x01')
    err = info.value
    assert (err.line, err.column) == (1, 14)
    first_line = str(err).split("\n")[0]
    assert "\x01" not in first_line
    assert any(s in first_line for s in ("\\x01", "U+0001", "0x01")), first_line


def test_grammar_text_must_be_str() -> None:
    with pytest.raises(TypeError):
        xgram.Grammar.from_ebnf(b'root ::= "a"')  # type: ignore[arg-type]


def test_unencodable_grammar_text_is_a_value_error() -> None:
    # A str holding a lone surrogate cannot be UTF-8 encoded: that is a bad value
    # (GrammarError or UnicodeEncodeError, both ValueErrors), not a TypeError.
    with pytest.raises(ValueError):
        xgram.Grammar.from_ebnf('root ::= "\ud800"')


def test_errors_do_not_poison_later_parses() -> None:
    for case in CASES[:10]:
        with pytest.raises(xgram.GrammarError):
            xgram.Grammar.from_ebnf(case.text, **case.kwargs)
    assert xgram.Grammar.from_ebnf('root ::= "ok"').accepts("ok")
