"""Match a model's control markers as their dedicated tokens instead of as text.

With ``token_markers=True``, ``<tool_call>`` in a structural tag must be the
tokenizer's single ``<tool_call>`` token, not the same characters spelled from
smaller tokens, because output parsers recognise markers by token id. The
rewrite below moves every marker that starts a tag's ``begin``, ends its
``end``, opens every trigger of a triggered-tags format, or sits in a constant
string onto a ``token`` format. The text beside a marker stays text, folded
into the tag's content, so the accepted output is unchanged; markers inside
argument schemas stay strings.
"""

from __future__ import annotations

from typing import Iterable, List, Optional

from ..errors import UsageError
from ._formats import (
    Format,
    any_tokens,
    const_string,
    sequence,
    token,
    token_triggered_tags,
)

_WITH_ELEMENTS = ("sequence", "or")
_WITH_CONTENT = ("optional", "plus", "star")


class _MarkerBinder:
    """Rewrites one structural-tag format tree; see :func:`bind_marker_tokens`."""

    def __init__(self, markers: Iterable[str]) -> None:
        # Longest first, so a marker that extends another one wins.
        self.markers = sorted({marker for marker in markers if marker}, key=len, reverse=True)

    def bind(self, fmt: Format) -> Format:
        kind = fmt["type"]
        if kind == "const_string":
            parts = self.split(fmt["value"])
            if len(parts) == 1:
                return parts[0]
            return sequence(*parts) if parts else fmt
        if kind == "tag":
            return self.bind_tag(fmt)
        if kind == "triggered_tags":
            return self.bind_triggered_tags(fmt)
        if kind == "tags_with_separator":
            return {**fmt, "tags": [self.bind_tag(each) for each in fmt["tags"]]}
        if kind in _WITH_ELEMENTS:
            return {**fmt, "elements": [self.bind(each) for each in fmt["elements"]]}
        if kind in _WITH_CONTENT:
            return {**fmt, "content": self.bind(fmt["content"])}
        # A repeat's token formats would not be resolved against the tokenizer, so its
        # markers stay strings; every other format holds no literal marker text.
        return fmt

    def split(self, text: str) -> List[Format]:
        """``text`` as constant strings and marker tokens, in order."""
        parts: List[Format] = []
        while text:
            found = [(text.find(marker), marker) for marker in self.markers]
            # min() keeps the first (longest) marker among those at the same index.
            hits = [(index, -len(marker), marker) for index, marker in found if index >= 0]
            if not hits:
                parts.append(const_string(text))
                break
            index, _, marker = min(hits)
            if index:
                parts.append(const_string(text[:index]))
            parts.append(token(marker))
            text = text[index + len(marker) :]
        return parts

    def leading(self, text: str) -> Optional[str]:
        return next((marker for marker in self.markers if text.startswith(marker)), None)

    def trailing(self, text: str) -> Optional[str]:
        return next((marker for marker in self.markers if text.endswith(marker)), None)

    def bind_tag(
        self, fmt: Format, *, begin_marker: Optional[str] = None, keep_begin: bool = False
    ) -> Format:
        """Put a leading ``begin`` marker and a trailing ``end`` marker on tokens."""
        begin, end = fmt["begin"], fmt["end"]
        lead: List[Format] = []
        tail: List[Format] = []
        if isinstance(begin, str) and not keep_begin:
            marker = begin_marker or self.leading(begin)
            if marker is not None and begin.startswith(marker):
                lead = self.split(begin[len(marker) :])
                begin = token(marker)
        if isinstance(end, list):
            bound = [choice for choice in end if self.trailing(choice) is not None]
            if bound:
                raise UsageError(
                    "Token markers cannot bind a tag whose `end` is a list of alternatives "
                    f"when one of them ends with a marker (got {bound!r}); use a single end "
                    "string or leave that tag unbound"
                )
        content = self.bind(fmt["content"])
        if isinstance(end, str):
            marker = self.trailing(end)
            if marker is not None:
                tail = self.split(end[: -len(marker)])
                end = token(marker)
                # Text-level free text would not stop at a token end.
                content = self.token_level(content)
        if lead or tail:
            content = sequence(*lead, content, *tail)
        return {**fmt, "begin": begin, "content": content, "end": end}

    def bind_triggered_tags(self, fmt: Format) -> Format:
        """Dispatch on a marker token when every trigger and every tag begins with it."""
        marker = next(
            (
                marker
                for marker in self.markers
                if all(trigger.startswith(marker) for trigger in fmt["triggers"])
                and all(
                    isinstance(each["begin"], str) and each["begin"].startswith(marker)
                    for each in fmt["tags"]
                )
            ),
            None,
        )
        if marker is None:
            tags = [self.bind_tag(each, keep_begin=True) for each in fmt["tags"]]
            return {**fmt, "tags": tags}
        return token_triggered_tags(
            [marker],
            [self.bind_tag(each, begin_marker=marker) for each in fmt["tags"]],
            # Only markers are known to be single tokens; other excludes are dropped.
            exclude_tokens=[text for text in fmt.get("excludes", []) if text in self.markers],
            at_least_one=fmt.get("at_least_one", False),
            stop_after_first=fmt.get("stop_after_first", False),
        )

    def token_level(self, fmt: Format) -> Format:
        """The free text under a token end, as token-level formats."""
        kind = fmt["type"]
        if kind == "any_text":
            excludes = fmt.get("excludes", [])
            if fmt.get("max_chars") is not None or any(
                text not in self.markers for text in excludes
            ):
                raise UsageError(
                    "Token markers need the free text under a token end to be token-level: "
                    f"its excludes must be markers and max_chars unset (got {fmt!r})"
                )
            return any_tokens(excludes, fmt.get("max_tokens"))
        if kind == "triggered_tags":
            raise UsageError(
                "Token markers cannot keep string-triggered tags under a token end; "
                "their triggers must start with a marker"
            )
        if kind in ("repeat", "dispatch"):
            raise UsageError(
                "Token markers cannot put a token end over a Repeat or Dispatch format; "
                "the free text inside it would stay string-level"
            )
        if kind in _WITH_ELEMENTS:
            return {**fmt, "elements": [self.token_level(each) for each in fmt["elements"]]}
        if kind in _WITH_CONTENT:
            return {**fmt, "content": self.token_level(fmt["content"])}
        return fmt


def bind_marker_tokens(structural_tag: Format, markers: Iterable[str]) -> Format:
    """``structural_tag`` with ``markers`` matched as single tokens.

    Parameters
    ----------
    structural_tag : dict
        A structural tag (``{"type": "structural_tag", "format": ...}``).
    markers : iterable of str
        Control markers that are single tokens in the target tokenizer.

    Returns
    -------
    dict
        The rewritten structural tag. Compile it with a compiler that knows the
        tokenizer, since ``token`` formats name tokens by their text.

    Raises
    ------
    xgram.UsageError
        When a marker cannot be bound without changing what is accepted: a
        list-valued ``end`` ending in a marker, or free text under a token end
        that is not token-level.

    """
    binder = _MarkerBinder(markers)
    if not binder.markers:
        return structural_tag
    return {**structural_tag, "format": binder.bind(structural_tag["format"])}
