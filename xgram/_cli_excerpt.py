"""Showing the spot of an error in an input: an excerpt of its line with a caret (see cli.py)."""

from __future__ import annotations

import unicodedata
from typing import List, Optional, Tuple

from .grammar import CheckResult

_CONTEXT_WIDTH = 72
"""Columns of an input line shown around the spot of an error."""
_EXCERPT_BYTES = 512
"""Bytes of an input line examined either side of the spot of an error."""


def _utf8_length(lead: int) -> int:
    """Length of the UTF-8 sequence announced by ``lead`` (1 for a bad lead byte)."""
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 1


def _split_chars(data: bytes, start: int, end: int) -> List[Tuple[int, int, Optional[str]]]:
    """Split ``data[start:end]`` into code points.

    Returns ``(first_byte, end_byte, char)`` triples; ``char`` is None for a
    byte that does not begin a valid UTF-8 sequence.
    """
    pieces: List[Tuple[int, int, Optional[str]]] = []
    i = start
    while i < end:
        n = _utf8_length(data[i])
        if n > 1 and i + n <= end:
            try:
                pieces.append((i, i + n, data[i : i + n].decode("utf-8")))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        pieces.append((i, i + 1, chr(data[i]) if data[i] < 0x80 else None))
        i += 1
    return pieces


def _render_char(char: Optional[str], raw: bytes, column: int) -> str:
    """How one code point (or invalid byte) is drawn in an excerpt at ``column``."""
    if char is None:
        return f"\\x{raw[0]:02x}"
    if char == "\t":
        return " " * (8 - column % 8)
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return repr(char)[1:-1]
    return char


def _width(text: str) -> int:
    """Display width of ``text`` in a terminal (wide CJK counts 2, marks 0)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _excerpt(data: bytes, offset: int) -> Tuple[str, str]:
    """The input line holding byte ``offset`` and a caret line pointing at it.

    Long lines are cut to a window around the spot, marked with ``...``.
    """
    line_start = data.rfind(b"\n", 0, offset) + 1
    line_end = data.find(b"\n", offset)
    if line_end < 0:
        line_end = len(data)
    # Look at no more than a few hundred bytes either side, even on a huge line.
    start = max(line_start, offset - _EXCERPT_BYTES)
    while start > line_start and (data[start] & 0xC0) == 0x80:
        start += 1  # begin on a character boundary
    stop = min(line_end, offset + _EXCERPT_BYTES)
    cells: List[Tuple[str, int]] = []  # (drawn text, display width)
    caret = -1
    column = 0
    for first, after, char in _split_chars(data, start, stop):
        if caret < 0 and after > offset:
            caret = len(cells)
        drawn = _render_char(char, data[first:after], column)
        width = _width(drawn)
        cells.append((drawn, width))
        column += width
    if caret < 0:
        caret = len(cells)  # the spot is the end of the line
    # Choose a window of cells that fits _CONTEXT_WIDTH and holds the caret: up to
    # two thirds of it before the caret, the rest after, then fill any room left.
    lo = hi = caret
    used = 0
    while lo > 0 and used + cells[lo - 1][1] <= _CONTEXT_WIDTH * 2 // 3:
        lo -= 1
        used += cells[lo][1]
    while hi < len(cells) and (hi == caret or used + cells[hi][1] <= _CONTEXT_WIDTH):
        used += cells[hi][1]
        hi += 1
    while lo > 0 and used + cells[lo - 1][1] <= _CONTEXT_WIDTH:
        lo -= 1
        used += cells[lo][1]
    head = "..." if lo > 0 or start > line_start else ""
    tail = "..." if hi < len(cells) or stop < line_end else ""
    text = head + "".join(d for d, _ in cells[lo:hi]) + tail
    pad = len(head) + sum(w for _, w in cells[lo:caret])
    return "  " + text, "  " + " " * pad + "^"


def _describe_unexpected(data: bytes, offset: int) -> str:
    """Name what is found at byte ``offset``: a character, or a stray byte."""
    if offset >= len(data):
        return "end of input"
    # The offending byte may sit inside a multi-byte character.
    start = offset
    while start > 0 and offset - start < 3 and (data[start] & 0xC0) == 0x80:
        start -= 1
    for first, end, char in _split_chars(data, start, min(len(data), start + 4)):
        if first <= offset < end:
            if char is None:
                return repr(data[offset : offset + 1])
            if first == offset:
                return repr(char)
            return f"{data[offset : offset + 1]!r} (byte {offset - first + 1} of {char!r})"
    return repr(data[offset : offset + 1])


def _report(name: str, data: bytes, result: CheckResult) -> List[str]:
    """Lines that describe ``result`` for the input called ``name``."""
    if result.status == "accepted":
        return [f"{name}: accepted"]
    if result.status == "prefix":
        return [f"{name}: valid prefix (incomplete at end, line {result.line}:{result.column})"]
    what = _describe_unexpected(data, result.offset)
    source, caret = _excerpt(data, result.offset)
    return [
        f"{name}: rejected at byte {result.offset} "
        f"(line {result.line}, column {result.column}): unexpected {what}",
        source,
        caret,
    ]
