"""Grammar text through the core, one layer below :class:`xgram.Grammar`.

The converters (JSON Schema, Lark, structural tags) parse EBNF and regexes of their
own while they build a grammar: to print a sub-grammar under new names, or to ask
whether a product of patterns accepts any string. They use these functions on the
core's grammar handle rather than :class:`xgram.Grammar`, so that the class, whose
``from_json_schema``/``from_lark``/``from_structural_tag`` call the converters, sits
above them and no module imports back up.
"""

from __future__ import annotations

from typing import Union

from . import _core
from .errors import GrammarError

TextLike = Union[str, bytes]


def as_bytes(text: TextLike) -> bytes:
    """Return ``text`` as bytes: ``str`` encoded as UTF-8, bytes-like objects copied.

    Raises
    ------
    TypeError
        For anything else.

    """
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError(f"expected str or bytes, got {type(text).__name__}")


def check_encodable(text: str, what: str) -> None:
    """Raise GrammarError for a lone surrogate, which UTF-8 cannot encode.

    Parameters
    ----------
    text : str
        The grammar or regex text.
    what : str
        What the text is (``"grammar"``, ``"regex"``), for the message.

    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        column = exc.start - (text.rfind("\n", 0, exc.start) + 1) + 1
        raise GrammarError(
            f"line {line}, column {column}: the {what} text contains a lone surrogate "
            f"{text[exc.start]!r}, which is not a character (use a \\u escape of a real "
            "code point)",
            line,
            column,
        ) from None


def parse_ebnf(ebnf: str, root_rule_name: str = "root") -> _core.Grammar:
    """Parse xgram EBNF into the core's grammar handle (see :meth:`xgram.Grammar.from_ebnf`)."""
    check_encodable(ebnf, "grammar")
    return _core.Grammar.from_ebnf(ebnf, root_rule_name)


def parse_regex(pattern: str) -> _core.Grammar:
    """Parse a regex into the core's grammar handle (see :meth:`xgram.Grammar.from_regex`)."""
    check_encodable(pattern, "regex")
    return _core.Grammar.from_regex(pattern)


def handle_accepts(handle: _core.Grammar, text: TextLike) -> bool:
    """True when the whole of ``text`` is in the language of the grammar ``handle``."""
    return handle.match(as_bytes(text))[0] == 0
