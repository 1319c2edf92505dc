r"""Lark regex terminals ``/pattern/flags`` lowered through xgram's regex engine (see xgram.lark).

A Lark regex is Python's ``re`` dialect; :meth:`xgram.Grammar.from_regex` reads the common
ECMA-262 / Python subset. Two of Lark's meanings differ from that engine's defaults and are
spelled out in the pattern before it is converted:

* ``.`` matches any character but ``\n`` (Python, and XGrammar's Lark), where the engine's
  ``.`` also stops at ``\r``, U+2028 and U+2029; with the ``s`` flag it matches anything.
* the ``i`` flag folds ASCII letters, as XGrammar 0.2.9 does: ``a`` becomes ``[aA]`` and a
  class gains the other case of the letters it holds (a negated class then excludes both).

The converted grammar is printed as EBNF and embedded in the Lark grammar's EBNF: its
single rule's body in parentheses, or, should the printer ever emit helper rules, all its
rules renamed to fresh names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from ._lark_syntax import Location, Regex, raise_at
from .errors import GrammarError
from .grammar_text import parse_regex

SUPPORTED_FLAGS = "isu"
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}
_ESCAPE_WITH_BRACES = re.compile(r"\\(?:u\{[0-9A-Fa-f]+\}|[pP]\{[^}]*\})")
_ESCAPE_WITH_HEX = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|c[A-Za-z])")
_QUANTIFIER = re.compile(r"\{[0-9]*(?:,[0-9]*)?\}")
_GROUP_NAME = re.compile(r"\(\?P?<(?![=!])[^>]*>")
_INLINE_FLAGS = re.compile(r"\(\?[A-Za-z-]*")


def read_escape(pattern: str, start: int) -> Tuple[int, Optional[str]]:
    """End of the escape at ``start`` and the one character it stands for (None if not one)."""
    for spelled in (_ESCAPE_WITH_BRACES, _ESCAPE_WITH_HEX):
        match = spelled.match(pattern, start)
        if match:
            text = match.group()
            if text[1] in "xu":
                return match.end(), chr(int(text[2:].strip("{}"), 16))
            return match.end(), None
    if start + 1 >= len(pattern):
        return len(pattern), None  # a lone backslash: the engine reports it
    letter = pattern[start + 1]
    if letter in _SIMPLE_ESCAPES:
        return start + 2, _SIMPLE_ESCAPES[letter]
    # Letters and digits escape classes (\d, \w), assertions (\b) or back-references.
    return start + 2, None if letter.isalnum() else letter


def _other_case(low: str, high: str) -> List[str]:
    """ASCII letters in ``low..high`` whose other case is to be added under the ``i`` flag."""
    letters = [chr(c) for c in range(max(ord(low), 0x41), min(ord(high), 0x7A) + 1)]
    return [c.swapcase() for c in letters if c.isascii() and c.isalpha()]


@dataclass
class _Rewriter:
    """Rewrites a Lark pattern for the engine, remembering where each output character came from."""

    pattern: str
    dot_all: bool
    fold_case: bool

    def __post_init__(self) -> None:
        self.out: List[str] = []
        self.origin: List[int] = []

    def emit(self, text: str, origin: int) -> None:
        self.out.append(text)
        self.origin.extend([origin] * len(text))

    def run(self) -> str:
        pattern, index = self.pattern, 0
        while index < len(pattern):
            index = self.step(index)
        self.origin.append(len(pattern))
        return "".join(self.out)

    def step(self, index: int) -> int:
        """Rewrite the construct at ``index`` outside a class; return where the next one starts."""
        pattern, char = self.pattern, self.pattern[index]
        if char == "\\":
            end, value = read_escape(pattern, index)
            spelled = pattern[index:end]
            folds = self.fold_case and value is not None and value.isascii() and value.isalpha()
            if folds and len(spelled) > 2:
                spelled = f"[{value}{value.swapcase()}]"  # \x41 under 'i' is [Aa]
            self.emit(spelled, index)
            return end
        if char == "[":
            return self.character_class(index)
        if char == ".":
            self.emit("[\\s\\S]" if self.dot_all else "[^\\n]", index)
            return index + 1
        if char == "(" or char == "{":
            # Group names, inline flags and counted quantifiers hold letters not to be folded.
            for syntax in (_GROUP_NAME, _INLINE_FLAGS, _QUANTIFIER):
                match = syntax.match(pattern, index)
                if match:
                    self.emit(match.group(), index)
                    return match.end()
        if self.fold_case and char.isascii() and char.isalpha():
            self.emit(f"[{char}{char.swapcase()}]", index)
        else:
            self.emit(char, index)
        return index + 1

    def character_class(self, start: int) -> int:
        """Copy the class at ``start``; under the ``i`` flag add its letters' other case."""
        pattern = self.pattern
        index = start + 1 + pattern.startswith("^", start + 1)
        added: List[str] = []
        ends_with_dash = False
        # As in ECMA-262 (and xgram's regex engine), a ']' right after '[' or '[^' closes it.
        while index < len(pattern) and pattern[index] != "]":
            ends_with_dash = pattern[index] == "-"
            index, low = self.class_atom(index)
            high = low
            if pattern.startswith("-", index) and pattern[index + 1 : index + 2] not in ("]", ""):
                index, high = self.class_atom(index + 1)
                ends_with_dash = False
            if low is not None and high is not None and self.fold_case:
                added.extend(_other_case(low, high))
        if index >= len(pattern):
            self.emit(pattern[start:], start)  # unclosed: the engine reports it
            return len(pattern)
        # The added letters go before a final literal '-', which would otherwise make a range.
        content_end = index - 1 if ends_with_dash else index
        self.emit(pattern[start:content_end], start)
        self.emit("".join(sorted(set(added))), content_end)
        self.emit(pattern[content_end : index + 1], content_end)
        return index + 1

    def class_atom(self, index: int) -> Tuple[int, Optional[str]]:
        if self.pattern[index] == "\\":
            return read_escape(self.pattern, index)
        return index + 1, self.pattern[index]


@dataclass
class EmbeddedRegex:
    """A regex as EBNF: ``expression`` stands for it; ``rules`` are helper rules it uses."""

    expression: str
    rules: List[Tuple[str, str]]


_RULE_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*) ::= (.*)")
# In printed EBNF: a string, a class (both with escapes), or a name; anything else is copied.
_EBNF_PIECE = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]|[A-Za-z_][A-Za-z0-9_-]*|.', re.S)


def embed_regex(node: Regex, source: str, fresh_name: Callable[[str], str]) -> EmbeddedRegex:
    """Lower ``node`` to EBNF through :meth:`Grammar.from_regex`; errors point into the Lark text.

    Parameters
    ----------
    node : Regex
        The regex and its flags.
    source : str
        The whole Lark text, for error messages.
    fresh_name : callable
        Gives an unused rule name for a wanted one, should helper rules be needed.

    """
    pattern_column = node.location.column + 1
    for offset, flag in enumerate(node.flags):
        if flag not in SUPPORTED_FLAGS:
            flag_at = Location(node.location.line, pattern_column + len(node.pattern) + 1 + offset)
            raise_at(source, flag_at, f"regex flag {flag!r} is not supported (only i, s and u are)")
    rewriter = _Rewriter(node.pattern, dot_all="s" in node.flags, fold_case="i" in node.flags)
    prepared = rewriter.run()
    try:
        printed = parse_regex(prepared).to_string()
    except GrammarError as error:
        reason = re.sub(r"^.*?column \d+: ", "", str(error).split("\n")[0])
        spot = rewriter.origin[min(max(error.column - 1, 0), len(rewriter.origin) - 1)]
        at = Location(node.location.line, pattern_column + spot)
        raise_at(source, at, f"in regex /{node.pattern}/: {reason}")
    rules = [_RULE_LINE.fullmatch(line) for line in printed.splitlines() if line.strip()]
    if any(rule is None for rule in rules):
        raise AssertionError(f"unexpected printed regex grammar:\n{printed}")
    bodies = {rule.group(1): rule.group(2) for rule in rules if rule}
    if list(bodies) == ["root"]:
        return EmbeddedRegex(f"({bodies['root']})", [])
    renamed = {name: fresh_name("lark_regex") for name in bodies}
    helper_rules = [(renamed[name], _rename(body, renamed)) for name, body in bodies.items()]
    return EmbeddedRegex(renamed["root"], helper_rules)


def _rename(body: str, renamed: dict) -> str:
    """``body`` with each rule name in ``renamed`` replaced, strings and classes untouched."""
    return "".join(renamed.get(piece, piece) for piece in _EBNF_PIECE.findall(body))
