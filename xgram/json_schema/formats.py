r"""Regular expressions for the JSON Schema ``format`` keyword.

Each regex in :data:`FORMAT_REGEXES` describes the *decoded* string value (what a JSON
parser hands back, not the JSON text with its quotes and escapes) and matches the whole
string (xgram regexes are implicitly anchored). The dialect is xgram's own regex engine
(:meth:`xgram.Grammar.from_regex`): no lookaround, no backreferences, no inline flags, so
case-insensitivity is written out (``[Tt]``) and every constraint is structural.

The rule for every format is *never looser than the format*: every string a regex accepts
is valid for the format as the JSON Schema specification defines it. Where an exact regex
would be too large (or needs an intersection, which a regex cannot write), the regex is
*stricter* than the format, and each such choice is listed here.

Formats and their sources
-------------------------
``date``, ``time``, ``date-time``
    RFC 3339 ``full-date``, ``full-time`` and ``date-time``. Month lengths and the
    Gregorian leap-year rule (divisible by 4, except centuries not divisible by 400) are
    exact for every year. ``T`` and ``Z`` may be lower case (RFC 3339 section
    5.6, note). Fractions of a second have any number of digits.
``duration``
    The ``duration`` ABNF of RFC 3339 appendix A (the grammar the JSON Schema
    specification points to): ``P`` then date elements in Y, M, D order, optionally
    followed by ``T`` and time elements in H, M, S order (an element may only be skipped
    at the end, e.g. no ``P1Y2D``), or weeks alone (``P2W``). Integer values only.
``email``
    The ``Mailbox`` ABNF of RFC 5321 section 4.1.2: a dot-string or quoted-string local
    part, ``@``, then a domain or an address literal (``[IPv4]`` or ``[IPv6:...]``).
``hostname``
    RFC 1123 section 2.1 host names: dot-separated labels of letters, digits and hyphens,
    each 1-63 characters, not starting or ending with a hyphen; at most 253 characters.
``ipv4``
    Dotted quad of decimal octets 0-255 without leading zeros (RFC 2673 section 3.2).
``ipv6``
    RFC 4291 section 2.2 text forms, with ``::`` compression and a trailing dotted
    IPv4 part; no zone identifier, no brackets, no prefix length.
``uuid``
    RFC 4122 ``8-4-4-4-12`` hexadecimal, either case, any version and variant.
``uri``, ``uri-reference``
    RFC 3986 ``URI`` and ``URI-reference``, exactly (percent-encoding, the character set
    of each component, IPv6 and IPvFuture literals, numeric ports). ASCII only.
``iri``, ``iri-reference``
    RFC 3987 ``IRI`` and ``IRI-reference``, exactly: the URI grammar with ``ucschar`` in
    unreserved positions and ``iprivate`` in the query.
``uri-template``
    RFC 6570 section 2 (level 4 syntax), with verified erratum 6937 (``'`` is a literal).
``json-pointer``
    RFC 6901.
``relative-json-pointer``
    ``non-negative-integer`` followed by ``#`` or a JSON pointer (draft-handrews-
    relative-json-pointer-01, the draft 7 / 2019-09 definition).

Deliberate strictness (valid strings these regexes reject)
----------------------------------------------------------
* ``date``, ``date-time``: year 0000 is rejected (RFC 3339's ``4DIGIT`` allows it, but ISO
  8601 only "by mutual agreement", and Python's ``datetime`` and jsonschema reject it).
* ``date-time``: a leap second (``:60``) is accepted only at the 27 leap seconds inserted
  so far (the ends of 1972-06-30 through 2016-12-31, UTC). RFC 3339 section 5.7 allows
  ``60`` only "at the end of months in which a leap second occurs", so this is exact for
  the past and rejects future ones. The local time must be 23:59:60 UTC shifted by the
  offset (the local date is the next day for positive offsets), and the offset must be
  ``Z`` or have 00 or 30 minutes: keeping the local hour and minute in mind until the
  offset is read costs states per offset minute, and other minutes (``+05:45``,
  ``+00:20``) are rare.
* ``time``: with no date, a leap second is accepted whenever the time is 23:59:60 UTC,
  i.e. local ``hh:mm:60`` with ``Z`` or the matching offset, again only for offsets whose
  minutes are 00 or 30.
* ``date-time``: no space in place of ``T`` (RFC 3339 mentions it only as an application
  choice outside the ABNF).
* ``duration``: the letters must be upper case (ISO 8601; RFC 3339's ABNF, with its
  case-insensitive literals, would also allow ``p1d``).
* ``hostname``: labels with ``--`` in the third and fourth positions (RFC 5890 reserved
  LDH labels, which include every IDNA A-label ``xn--...``) are rejected: whether the
  Punycode decodes to a permitted U-label is beyond a regex, and the test suite requires
  rejecting invalid ones such as ``xn--X``. A trailing dot is not accepted.
  The 253-character limit together with the 63-character label limit needs two counters
  at once, which a regex (no intersection, no lookahead) cannot write compactly, so a name
  is accepted only when it fits one of these shapes, each within 253 characters:

  - up to 3 labels of up to 63 characters, or 4 labels of up to 62;
  - one label of up to 63 characters, with up to 2 labels of up to 22 before it and up to
    6 after it;
  - up to 11 labels of up to 22 characters; up to 25 of up to 9; up to 50 of up to 4
    (enough for ``ip6.arpa`` reverse names); up to 127 of 1.

  Valid names outside every shape (five labels of 40 characters, 12 labels of 15) are
  rejected.
* ``email``: the quoted-string local part must not be empty (``""@example.com``); domain
  labels have at most 63 characters (DNS; RFC 5321's ABNF has no limit); the IPv4
  address literal has no leading zeros (RFC 5321's ``Snum`` allows ``001``); the
  General-address-literal (a tag other than ``IPv6``) is rejected, as no other tag is
  registered. The RFC 5321 section 4.5.3.1 size limits (64-octet local part, 255-octet
  domain) are minimums an implementation must support, not part of the ``Mailbox`` ABNF,
  and are not enforced. Inside ``[IPv6:...]`` the RFC 5321 ``IPv6-addr`` rule applies,
  which is stricter than RFC 4291: ``::`` stands for at least two groups.
* ``uri-template``: the reserved operators ``= , ! @ |`` (RFC 6570 section 2.2: reserved
  for future extensions, an error for a processor) are rejected.
* ``relative-json-pointer``: the index manipulation (``0+1/foo``) of draft-bhutton-
  relative-json-pointer-00 (JSON Schema 2020-12) is not accepted, so the regex is valid
  under both the older and the newer definition.

Sizes
-----
Each regex compiles (:meth:`xgram.Grammar.from_regex` and the automaton) in well under
50 ms into fewer than 1,000 automaton states; ``date-time`` (leap seconds) is the largest.

Formats given as EBNF rules (:func:`format_grammar`)
---------------------------------------------------
``regex`` (ECMA-262 pattern syntax is context-free, not regular: groups nest) and
``idn-hostname`` (IDNA2008: a regular language, but the conjunction of its rules is far
too large for one regex) have no regex; :func:`format_grammar` gives them as EBNF rules
over JSON string content. Their own deliberate strictness is listed in
:mod:`.regex_format` and :mod:`.idn_formats`. ``idn-hostname``'s grammar is large (about
1,900 rules, over 1 MB of text, a few seconds to build once per process).

Not implemented
---------------
``idn-email`` (RFC 6531): its domain is an ``idn-hostname``-like name and its local part
admits any non-ASCII character; not written yet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, Optional

from ..grammar_text import handle_accepts, parse_ebnf
from .format_automata import HOSTNAME_SHAPES

__all__ = [
    "FORMAT_GRAMMARS",
    "FORMAT_REGEXES",
    "KNOWN_UNSUPPORTED",
    "FormatGrammar",
    "format_grammar",
    "format_regex",
]

# ---------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------

_DIGIT = "[0-9]"
_HEX = "[0-9A-Fa-f]"
_ALNUM = "[0-9A-Za-z]"
_PCT = f"%{_HEX}{_HEX}"

#: RFC 2673 / RFC 3986 ``dec-octet``: 0-255 without leading zeros.
_DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = f"{_DEC_OCTET}(?:\\.{_DEC_OCTET}){{3}}"


def _ipv6(min_elided: int = 1) -> str:
    """IPv6 address text (RFC 4291 section 2.2), without zone or brackets.

    Parameters
    ----------
    min_elided : int
        How many 16-bit groups ``::`` stands for at least: 1 for RFC 4291, 2 for the
        ``IPv6-comp`` / ``IPv6v4-comp`` forms of RFC 5321.

    Returns
    -------
    str
        A regex for the address.

    """
    h = f"{_HEX}{{1,4}}"

    def groups(n: int, sep_first: bool) -> str:
        # n groups joined by ":", e.g. "h:h:h"; with sep_first each is "h:" instead.
        if sep_first:
            return f"(?:{h}:){{{n}}}"
        return h if n == 1 else f"{h}:{h}" if n == 2 else f"(?:{h}:){{{n - 1}}}{h}"

    alternatives = [groups(8, False), f"{groups(6, True)}{_IPV4}"]
    # Compressed forms: k explicit groups before "::", at most `room - k` after it.
    for total, tail in ((8, ""), (6, _IPV4)):
        room = total - min_elided
        for k in range(room + 1):
            left = groups(k, False) if k else ""
            n = room - k
            if tail:
                right = f"(?:{h}:){{0,{n}}}{tail}" if n > 1 else f"(?:{h}:)?{tail}" if n else tail
            elif n == 0:
                right = ""
            else:
                more = "" if n == 1 else f"(?::{h})?" if n == 2 else f"(?::{h}){{0,{n - 1}}}"
                right = f"(?:{h}{more})?"
            alternatives.append(f"{left}::{right}")
    return "(?:" + "|".join(alternatives) + ")"


_IPV6 = _ipv6()

# ---------------------------------------------------------------------------------------
# date, time, date-time (RFC 3339)
# ---------------------------------------------------------------------------------------

#: Years 0001-9999 (0000 is left out, see the module docstring).
_YEAR = f"(?:{_DIGIT}{{3}}[1-9]|{_DIGIT}{{2}}[1-9]0|{_DIGIT}[1-9]00|[1-9]000)"
#: Leap years: divisible by 4 and not by 100, or divisible by 400 (0000 left out).
_LEAP_YEAR = (
    f"(?:{_DIGIT}{{2}}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
)
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"

_HOUR = "(?:[01][0-9]|2[0-3])"
_MINUTE = "[0-5][0-9]"
_FRAC = f"(?:\\.{_DIGIT}+)?"
_NUM_OFFSET = f"[+\\-]{_HOUR}:{_MINUTE}"
_OFFSET = f"(?:[Zz]|{_NUM_OFFSET})"
_TIME_NO_LEAP = f"{_HOUR}:{_MINUTE}:[0-5][0-9]{_FRAC}{_OFFSET}"

#: The leap seconds inserted so far, as the UTC dates they end (23:59:60Z).
_LEAP_SECOND_DATES = (
    "1972-06-30 1972-12-31 1973-12-31 1974-12-31 1975-12-31 1976-12-31 1977-12-31 "
    "1978-12-31 1979-12-31 1981-06-30 1982-06-30 1983-06-30 1985-06-30 1987-12-31 "
    "1989-12-31 1990-12-31 1992-06-30 1993-06-30 1994-06-30 1995-12-31 1997-06-30 "
    "1998-12-31 2005-12-31 2008-12-31 2012-06-30 2015-06-30 2016-12-31"
).split()
_LEAP_OFFSET_MINUTES = (0, 30)


def _alt(items: list[str]) -> str:
    """``(?:a|b|...)``, or the single item unparenthesised."""
    return items[0] if len(items) == 1 else "(?:" + "|".join(items) + ")"


def _leap_second_times(which: str) -> str:
    """Local ``hh:mm:60[.f]offset`` strings that are 23:59:60 UTC.

    Parameters
    ----------
    which : {"all", "same-day", "next-day"}
        ``same-day``: offsets that keep the local date equal to the UTC date (``Z``,
        zero and negative offsets); ``next-day``: positive non-zero offsets, whose local
        date is the day after; ``all``: both (for ``time``, which has no date).

    Returns
    -------
    str
        A regex.

    """
    by_local: dict[tuple[int, int], list[str]] = {}

    def add(local_minutes: int, offset_regex: str) -> None:
        key = divmod(local_minutes % (24 * 60), 60)
        by_local.setdefault(key, []).append(offset_regex)

    utc = 23 * 60 + 59
    if which in ("all", "same-day"):
        add(utc, "[Zz]")
        add(utc, "[+\\-]00:00")
    for hour in range(24):
        for minute in _LEAP_OFFSET_MINUTES:
            offset = hour * 60 + minute
            if offset == 0:
                continue
            if which in ("all", "same-day"):
                add(utc - offset, f"-{hour:02d}:{minute:02d}")
            if which in ("all", "next-day"):
                add(utc + offset, f"\\+{hour:02d}:{minute:02d}")
    alternatives = [
        f"{hh:02d}:{mm:02d}:60{_FRAC}{_alt(offsets)}"
        for (hh, mm), offsets in sorted(by_local.items())
    ]
    return _alt(alternatives)


def _dates(dates: list[str]) -> str:
    """A regex matching exactly the given ``YYYY-MM-DD`` dates, grouped by year."""
    by_year: dict[str, list[str]] = {}
    for date in dates:
        by_year.setdefault(date[:4], []).append(date[5:])
    return _alt([f"{year}-{_alt(rest)}" for year, rest in by_year.items()])


def _next_day(date: str) -> str:
    """The ``YYYY-MM-DD`` after ``date`` (only for month ends, as in the leap table)."""
    year, month, _ = (int(part) for part in date.split("-"))
    return f"{year + 1:04d}-01-01" if month == 12 else f"{year:04d}-{month + 1:02d}-01"


_TIME = f"(?:{_TIME_NO_LEAP}|{_leap_second_times('all')})"
_DATE_TIME = (
    f"(?:{_DATE}[Tt]{_TIME_NO_LEAP}"
    f"|{_dates(_LEAP_SECOND_DATES)}[Tt]{_leap_second_times('same-day')}"
    f"|{_dates([_next_day(d) for d in _LEAP_SECOND_DATES])}[Tt]"
    f"{_leap_second_times('next-day')})"
)

# ---------------------------------------------------------------------------------------
# duration (RFC 3339 appendix A)
# ---------------------------------------------------------------------------------------

_N = f"{_DIGIT}+"
_DUR_TIME = f"T(?:{_N}H(?:{_N}M(?:{_N}S)?)?|{_N}M(?:{_N}S)?|{_N}S)"
_DUR_DATE = f"(?:{_N}D|{_N}M(?:{_N}D)?|{_N}Y(?:{_N}M(?:{_N}D)?)?)"
_DURATION = f"P(?:{_DUR_DATE}(?:{_DUR_TIME})?|{_DUR_TIME}|{_N}W)"

# ---------------------------------------------------------------------------------------
# hostname (RFC 1123) and email (RFC 5321)
# ---------------------------------------------------------------------------------------


def _ldh_label(max_len: int, *, reserved_ok: bool) -> str:
    """One LDH label of 1..``max_len`` characters.

    Parameters
    ----------
    max_len : int
        Longest label accepted (at least 1).
    reserved_ok : bool
        Whether ``--`` may stand in the third and fourth positions (RFC 5890 R-LDH
        labels such as ``xn--...``).

    Returns
    -------
    str
        A regex: letters and digits at both ends, hyphens allowed inside.

    """
    a, ah = _ALNUM, "[0-9A-Za-z\\-]"
    if max_len == 1:
        return a
    # "--" in positions 3-4 needs a fifth character (the last one is never a hyphen).
    if reserved_ok or max_len <= 4:
        return f"{a}(?:{ah}{{0,{max_len - 2}}}{a})?"
    return f"{a}(?:{ah}{{0,2}}{a}|{ah}(?:{a}{ah}|-{a}){ah}{{0,{max_len - 5}}}{a})?"


def _hostname() -> str:
    """The hostname regex: the union of the shapes documented in the module docstring."""
    alternatives = []
    for max_len, max_labels in HOSTNAME_SHAPES:
        assert max_labels * (max_len + 1) - 1 <= 253
        label = _ldh_label(max_len, reserved_ok=False)
        alternatives.append(f"{label}(?:\\.{label}){{0,{max_labels - 1}}}")
    # One long label among short ones: 2 * 23 + 63 + 6 * 23 = 247 characters.
    short, long_ = _ldh_label(22, reserved_ok=False), _ldh_label(63, reserved_ok=False)
    alternatives.append(f"(?:{short}\\.){{0,2}}{long_}(?:\\.{short}){{0,6}}")
    return _alt(alternatives)


_HOSTNAME = _hostname()

_ATEXT = "[0-9A-Za-z!#$%&'*+\\-/=?\\^_`{|}~]"
_DOT_STRING = f"{_ATEXT}+(?:\\.{_ATEXT}+)*"
#: RFC 5321 qtextSMTP (%d32-33 / %d35-91 / %d93-126) and quoted-pairSMTP ("\" %d32-126).
_QUOTED_STRING = '"(?:[ !#-\\[\\]-~]|\\\\[ -~])+"'
_EMAIL_LABEL = _ldh_label(63, reserved_ok=True)
_EMAIL_DOMAIN = f"{_EMAIL_LABEL}(?:\\.{_EMAIL_LABEL})*"
_EMAIL_LITERAL = f"\\[(?:{_IPV4}|[Ii][Pp][Vv]6:{_ipv6(min_elided=2)})\\]"
_EMAIL = f"(?:{_DOT_STRING}|{_QUOTED_STRING})@(?:{_EMAIL_DOMAIN}|{_EMAIL_LITERAL})"

_UUID = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"

# ---------------------------------------------------------------------------------------
# uri, uri-reference (RFC 3986), iri, iri-reference (RFC 3987)
# ---------------------------------------------------------------------------------------

_UNRESERVED = "0-9A-Za-z\\-._~"
_SUB_DELIMS = "!$&'()*+,;="
#: RFC 3987 ucschar and iprivate.
_UCSCHAR = (
    "\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF"
    + "".join(f"\\u{{{p:X}0000}}-\\u{{{p:X}FFFD}}" for p in range(1, 14))
    + "\\u{E1000}-\\u{EFFFD}"
)
_IPRIVATE = "\\uE000-\\uF8FF\\u{F0000}-\\u{FFFFD}\\u{100000}-\\u{10FFFD}"


def _uri(*, iri: bool, reference: bool) -> str:
    """RFC 3986 ``URI`` / ``URI-reference`` or RFC 3987 ``IRI`` / ``IRI-reference``.

    Parameters
    ----------
    iri : bool
        Add ``ucschar`` to the unreserved characters and ``iprivate`` to the query.
    reference : bool
        Also accept relative references.

    Returns
    -------
    str
        A regex.

    """
    unreserved = _UNRESERVED + (_UCSCHAR if iri else "")

    def chars(extra: str) -> str:
        # One character of unreserved / pct-encoded / sub-delims / extra.
        return f"(?:[{unreserved}{_SUB_DELIMS}{extra}]|{_PCT})"

    segment = f"{chars(':@')}*"
    segment_nz = f"{chars(':@')}+"
    ip_future = f"[Vv]{_HEX}+\\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
    # IPv4address is a subset of reg-name, so the reg-name alternative covers it.
    host = f"(?:\\[(?:{_IPV6}|{ip_future})\\]|{chars('')}*)"
    authority = f"(?:{chars(':')}*@)?{host}(?::{_DIGIT}*)?"
    # "//" authority path-abempty, or path-absolute: shared by URI and relative-ref.
    rooted = f"/(?:/{authority}(?:/{segment})*|{segment_nz}(?:/{segment})*)?"
    path_rootless = f"{segment_nz}(?:/{segment})*"
    query = f"(?:\\?{chars(':@/?' + (_IPRIVATE if iri else ''))}*)?"
    fragment = f"(?:#{chars(':@/?')}*)?"
    scheme = "[A-Za-z][A-Za-z0-9+\\-.]*"
    if not reference:
        return f"{scheme}:(?:{rooted}|{path_rootless})?{query}{fragment}"
    # relative-ref uses path-noscheme: no ":" in the first segment.
    path_noscheme = f"{chars('@')}+(?:/{segment})*"
    return (
        f"(?:{scheme}:{path_rootless}|(?:{scheme}:)?{rooted}|{path_noscheme}|{scheme}:)?"
        f"{query}{fragment}"
    )


# ---------------------------------------------------------------------------------------
# uri-template (RFC 6570), json-pointer (RFC 6901), relative-json-pointer
# ---------------------------------------------------------------------------------------

_TEMPLATE_LITERAL = f"(?:[!#$&-;=?-\\[\\]_a-z~{_UCSCHAR}{_IPRIVATE}]|{_PCT})"
_VARCHAR = f"(?:[0-9A-Za-z_]|{_PCT})"
_VARSPEC = f"{_VARCHAR}(?:\\.?{_VARCHAR})*(?::[1-9][0-9]{{0,3}}|\\*)?"
_TEMPLATE_EXPRESSION = f"\\{{[+#./;?&]?{_VARSPEC}(?:,{_VARSPEC})*\\}}"
_URI_TEMPLATE = f"(?:{_TEMPLATE_LITERAL}|{_TEMPLATE_EXPRESSION})*"

_JSON_POINTER = "(?:/(?:[^/~]|~[01])*)*"
_RELATIVE_JSON_POINTER = f"(?:0|[1-9][0-9]*)(?:#|{_JSON_POINTER})"

# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------

#: Format name -> regex over the decoded string, matching the whole string.
FORMAT_REGEXES: dict[str, str] = {
    "date-time": _DATE_TIME,
    "date": _DATE,
    "time": _TIME,
    "duration": _DURATION,
    "email": _EMAIL,
    "hostname": _HOSTNAME,
    "ipv4": _IPV4,
    "ipv6": _IPV6,
    "uuid": _UUID,
    "uri": _uri(iri=False, reference=False),
    "uri-reference": _uri(iri=False, reference=True),
    "iri": _uri(iri=True, reference=False),
    "iri-reference": _uri(iri=True, reference=True),
    "uri-template": _URI_TEMPLATE,
    "json-pointer": _JSON_POINTER,
    "relative-json-pointer": _RELATIVE_JSON_POINTER,
}

#: Formats the JSON Schema specification defines that have no regex here (some of them
#: have a grammar: :func:`format_grammar`).
KNOWN_UNSUPPORTED: frozenset[str] = frozenset({"idn-email"})


def format_regex(name: str) -> str | None:
    """The regex for a JSON Schema ``format``, or ``None`` when there is none.

    Parameters
    ----------
    name : str
        The value of the ``format`` keyword, e.g. ``"date-time"``.

    Returns
    -------
    str or None
        A regex in xgram's dialect over the decoded string, matching the whole string;
        ``None`` for formats in :data:`KNOWN_UNSUPPORTED` and for unknown formats.

    """
    return FORMAT_REGEXES.get(name)


@dataclass(frozen=True)
class FormatGrammar:
    r"""A ``format`` given as EBNF rules rather than a regex.

    Attributes
    ----------
    rules : dict
        Rule name -> body. The rules describe JSON string *content* (the text between
        the quotes, escapes included), so they can be placed in a JSON grammar as they
        are: ``"\\"" root "\\""``. Every name starts with a prefix of the format's own.
    root : str
        The rule for one whole string value.
    regular : bool
        Whether the language is regular (so the rules may stand in an EBNF ``&`` or
        ``-`` operand, subject to the core's state budget).
    nonempty_root : str or None
        The rule for the values other than ``""`` (``minLength: 1`` beside a format
        that is not regular, which ``&`` cannot intersect), if the format has one.
    safe_subset : str or None
        A regex (whole-value match) for a regular part of the format: strings that
        other constraints confine to it are valid for the format, which then adds
        nothing (``pattern: "^[0-9:.]+$"`` beside ``format: regex``).

    """

    rules: Dict[str, str]
    root: str
    regular: bool
    nonempty_root: Optional[str] = None
    safe_subset: Optional[str] = None

    def ebnf(self, root_rule_name: str = "root") -> str:
        """A complete grammar: the rules and ``root_rule_name`` for a quoted JSON string."""
        lines = [f"{name} ::= {body}" for name, body in self.rules.items()]
        lines.append(f'{root_rule_name} ::= "\\"" {self.root} "\\""')
        return "\n".join(lines) + "\n"


def _regex_grammar() -> FormatGrammar:
    from .regex_format import regex_format_rules  # noqa: PLC0415

    rules, root = regex_format_rules("format_regex")
    # Without ( ) [ ] { } \\ * + ? a pattern is literals, '.', '^', '$' and '|': valid.
    return FormatGrammar(
        dict(rules),
        root,
        regular=False,
        nonempty_root="format_regex_nonempty",
        safe_subset="[^()\\[\\]{}\\\\*+?]*",
    )


def _idn_hostname_grammar() -> FormatGrammar:
    from .idn_formats import idn_hostname_rules  # noqa: PLC0415

    rules, root = idn_hostname_rules("format_idn")
    return FormatGrammar(dict(rules), root, regular=True)


_GRAMMAR_BUILDERS: Dict[str, Callable[[], FormatGrammar]] = {
    "regex": _regex_grammar,
    "idn-hostname": _idn_hostname_grammar,
}

#: The formats :func:`format_grammar` gives (none of them has a regex).
FORMAT_GRAMMARS: frozenset = frozenset(_GRAMMAR_BUILDERS)


@lru_cache(maxsize=64)
def format_grammar(name: str) -> FormatGrammar | None:
    """The EBNF rules for a JSON Schema ``format`` that has no regex, or ``None``.

    Parameters
    ----------
    name : str
        The value of the ``format`` keyword, e.g. ``"regex"``.

    Returns
    -------
    FormatGrammar or None
        The rules (built once per process and cached), or ``None`` for formats with a
        regex (:func:`format_regex`), unknown formats and formats not implemented.

    """
    builder = _GRAMMAR_BUILDERS.get(name)
    if builder is None or name in KNOWN_UNSUPPORTED:
        return None
    return builder()


def format_grammar_matches(name: str, text: str) -> bool:
    """Whether ``text`` is valid for the grammar format ``name`` (see :func:`format_grammar`).

    Raises
    ------
    KeyError
        When ``name`` has no grammar.

    """
    import json  # noqa: PLC0415

    return _grammar_checker(name)(json.dumps(text, ensure_ascii=False))


@lru_cache(maxsize=64)
def _grammar_checker(name: str) -> Callable[[str], bool]:
    grammar = format_grammar(name)
    if grammar is None:
        raise KeyError(f"format {name!r} has no grammar")
    return functools.partial(handle_accepts, parse_ebnf(grammar.ebnf()))
