"""Tests for xgram.json_schema.formats: regexes for the JSON Schema ``format`` keyword.

Three kinds of evidence:

* the official JSON-Schema-Test-Suite (``../shared/json-schema-test-suite``), both drafts:
  every invalid string must be rejected, every valid string accepted except an explicit
  allowlist of deliberate false negatives;
* hand-written edge cases and systematic sweeps against independent Python oracles
  (``datetime``, ``ipaddress``, small parsers written from the RFC grammars);
* mutations of valid strings (hypothesis, derandomised): whatever a regex accepts must pass
  the oracle and, where it checks the format, jsonschema's FormatChecker.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import itertools
import json
import random
import re
import time
import unicodedata
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xgram
from xgram.json_schema.formats import FORMAT_REGEXES, KNOWN_UNSUPPORTED, format_regex

SUITE = Path(__file__).resolve().parents[2] / "shared" / "json-schema-test-suite"
SUITE_MISSING = "../shared/json-schema-test-suite not found"
DRAFTS = ("draft2020-12", "draft7")

#: Every format the 2020-12 specification defines.
SPEC_FORMATS = frozenset(
    """date-time date time duration email idn-email hostname idn-hostname ipv4 ipv6 uri
    uri-reference iri iri-reference uuid uri-template json-pointer relative-json-pointer
    regex""".split()
)
REQUIRED = frozenset(
    "date-time date time duration email hostname ipv4 ipv6 uuid uri uri-reference "
    "json-pointer".split()
)

#: Valid suite strings the regexes reject on purpose (see the module docstring of
#: xgram.json_schema.formats). Hostname: every label with "--" in positions 3-4 is
#: rejected, which includes all IDNA A-labels ("xn--..."): a regex cannot decode
#: Punycode, and the suite requires rejecting invalid A-labels such as "xn--X".
KNOWN_FALSE_NEGATIVES = {
    "hostname": frozenset(
        {
            "xn--9n2bp8q.xn--9t4b11yi5a",
            "xn--zca29lwxobi7a",
            "xn--qmbc",
            "xn--ll-0ea",
            "xn--wva3je",
            "xn--4dbc5h",
            "xn--4dbc8h",
            "xn--k8j5u",
            "xn--bck0j",
            "xn--vek778f",
            "xn--ngba1o",
            "xn--0-gyc",
            "xn--11b2ezcw70k",
            "xn--11b2ezcs70k",
            "xn--ngba5hb2804a",
        }
    ),
}


@functools.lru_cache(maxsize=None)
def grammar(name: str) -> xgram.Grammar:
    return xgram.Grammar.from_regex(FORMAT_REGEXES[name])


def accepts(name: str, s: str) -> bool:
    return grammar(name).accepts(s)


def suite_strings(draft: str, fmt: str) -> list[tuple[str, bool, str]]:
    """(data, valid, description) for every string instance of one suite file."""
    path = SUITE / "tests" / draft / "optional" / "format" / f"{fmt}.json"
    if not path.exists():
        return []
    out = []
    for group in json.loads(path.read_text(encoding="utf-8")):
        for case in group["tests"]:
            if isinstance(case["data"], str):
                out.append((case["data"], case["valid"], case["description"]))
    return out


# --------------------------------------------------------------------------------------
# Public API and sizes
# --------------------------------------------------------------------------------------


def test_public_api():
    assert REQUIRED <= set(FORMAT_REGEXES)
    assert set(FORMAT_REGEXES) | FORMAT_GRAMMARS | KNOWN_UNSUPPORTED == SPEC_FORMATS
    assert not set(FORMAT_REGEXES) & KNOWN_UNSUPPORTED
    assert isinstance(KNOWN_UNSUPPORTED, frozenset)
    for name, rx in FORMAT_REGEXES.items():
        assert format_regex(name) == rx
    for name in KNOWN_UNSUPPORTED | {"no-such-format", ""}:
        assert format_regex(name) is None


@pytest.mark.parametrize("name", sorted(FORMAT_REGEXES))
def test_regex_is_small_and_quick(name):
    start = time.perf_counter()
    g = xgram.Grammar.from_regex(FORMAT_REGEXES[name])
    g.accepts("")
    elapsed = time.perf_counter() - start
    stats = g.automaton_stats()
    assert stats["states"] < 2000, stats
    # Typically 1-20 ms; the bound leaves room for a loaded machine.
    assert elapsed < 1.0, elapsed


# --------------------------------------------------------------------------------------
# JSON-Schema-Test-Suite
# --------------------------------------------------------------------------------------

SUITE_CASES = [(d, f) for d in DRAFTS for f in sorted(FORMAT_REGEXES)]


@pytest.mark.parametrize(("draft", "fmt"), SUITE_CASES)
def test_suite(draft, fmt):
    if not SUITE.exists():
        print(f"skipping {draft}/{fmt}: {SUITE_MISSING} (looked in {SUITE})")
        pytest.skip(SUITE_MISSING)
    cases = suite_strings(draft, fmt)
    if not cases:
        pytest.skip(f"no {fmt}.json in {draft}")
    allow = KNOWN_FALSE_NEGATIVES.get(fmt, frozenset())
    wrongly_accepted = [(s, why) for s, valid, why in cases if not valid and accepts(fmt, s)]
    assert not wrongly_accepted, "invalid strings accepted"
    wrongly_rejected = [
        (s, why) for s, valid, why in cases if valid and s not in allow and not accepts(fmt, s)
    ]
    assert not wrongly_rejected, "valid strings rejected"
    # The allowlist stays honest: every entry is a valid suite string we still reject.
    valid_here = {s for s, valid, _ in cases if valid}
    for s in allow & valid_here:
        assert not accepts(fmt, s), f"{s!r} is accepted now; drop it from the allowlist"


def test_suite_counts_are_reported():
    """Print per-format counts (valid accepted / total, invalid rejected / total)."""
    if not SUITE.exists():
        print(f"skipping suite counts: {SUITE_MISSING}")
        pytest.skip(SUITE_MISSING)
    for draft, fmt in SUITE_CASES:
        cases = suite_strings(draft, fmt)
        if cases:
            va = sum(1 for s, v, _ in cases if v and accepts(fmt, s))
            vt = sum(1 for _, v, _ in cases if v)
            ir = sum(1 for s, v, _ in cases if not v and not accepts(fmt, s))
            it = sum(1 for _, v, _ in cases if not v)
            print(f"{draft:13s} {fmt:22s} valid {va}/{vt}  invalid rejected {ir}/{it}")
            assert ir == it


# --------------------------------------------------------------------------------------
# Hand-written edge cases
# --------------------------------------------------------------------------------------

EDGE_VALID = {
    "date": ["2000-02-29", "2400-02-29", "0004-02-29", "1600-02-29", "9999-12-31", "0001-01-01"],
    "date-time": [
        "2020-01-01T00:00:00Z",
        "2020-01-01t00:00:00z",
        "2020-02-29T23:59:59.999999+14:00",
        "2016-12-31T23:59:60Z",
        "2016-12-31T23:59:60+00:00",
        "2016-12-31T23:59:60-00:00",
        "2016-12-31T15:59:60-08:00",
        "2017-01-01T05:29:60+05:30",
        "2015-06-30T23:59:60.5Z",
        "1972-06-30T23:59:60Z",
        "1972-07-01T00:29:60+00:30",
        "1972-06-30T00:29:60-23:30",
    ],
    "time": [
        "00:00:00Z",
        "23:59:59.123456789-23:59",
        "23:59:60Z",
        "23:59:60.5z",
        "05:29:60+05:30",
        "00:59:60+01:00",
        "22:59:60-01:00",
        "00:29:60+00:30",
    ],
    "duration": ["P1Y2M", "P1W", "P0W", "PT0S", "P1Y2M3DT4H5M6S", "P1DT1M", "P1MT1S", "PT1H1M"],
    "email": [
        "a@b",
        "a@b.c",
        "first.last@example.com",
        "!#$%&'*+-/=?^_`{|}~@example.com",
        '"a b"@c.d',
        '"\\"quoted\\\\"@c.d',
        "a@[1.2.3.4]",
        "a@[IPv6:1:2:3:4:5:6:7:8]",
        "a@[ipv6:::1]",
        "a@[IPv6:::ffff:1.2.3.4]",
        "a@[IPv6:1:2:3:4:5:6:1.2.3.4]",
        "a@xn--bcher-kva.example",
        "a@" + "b" * 63 + ".com",
    ],
    "hostname": [
        "localhost",
        "a",
        "A.B",
        "a-b",
        "123",
        "a--b",
        "abc-d.efg",
        "b" * 63,
        ".".join(["b" * 63] * 3),
        ".".join(["b" * 62] * 4),
        ".".join(["c"] * 127),
        ".".join(["abcd"] * 50),
        ".".join(["b" * 22] * 11),
        "ab." + "b" * 63 + ".cd.ef.gh",
        ".".join(["b" * 22] * 2 + ["c" * 63] + ["d" * 22] * 6),
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
    ],
    "ipv4": ["0.0.0.0", "255.255.255.255", "10.0.0.1", "199.249.250.9"],
    "ipv6": [
        "::",
        "1::",
        "::1.2.3.4",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:1.2.3.4",
        "1::2:3:4:5:1.2.3.4",
        "FFFF::abcd",
        "0000:0000:0000:0000:0000:0000:0000:0000",
    ],
    "uuid": ["00000000-0000-0000-0000-000000000000", "AbCdEf01-2345-6789-aBcD-ef0123456789"],
    "uri": [
        "a:",
        "urn:isbn:0451450523",
        "http://a:b@c:80/p?q#f",
        "http://[::1]:80",
        "http://[v1.x]/",
        "http://host:/",
        "mailto:a@b",
        "file:///etc/hosts",
        "foo:/a//b",
        "h://a/%7E?%20#%41",
        "x:?#",
    ],
    "uri-reference": ["", "../a", "a:b", "?", "#", "//", "/", "a/b:c", "%41", "./1:b"],
    "iri": [
        "http://例え.テスト/パス?ク=エ#リ",
        "http://a/?\ue000",
        "http://a/\U00010000",
        "x:\u00a0",
    ],
    "iri-reference": ["例", "/é", "?\ue000", ""],
    "uri-template": [
        "{var}",
        "{var:9999}",
        "{a.b.c*}",
        "{.a}",
        "{a}{b}",
        "%41",
        "{%41.b}",
        "http://h/{+p}{?q,r*}",
        "a'b",
        "\U0010fffd",
    ],
    "json-pointer": ["", "/", "/a~01", "/a\n", "//", "/~0~1", "/\U0001f600"],
    "relative-json-pointer": ["0", "0#", "1/", "10/a/b", "0/~0"],
}

EDGE_INVALID = {
    "date": [
        "1900-02-29",
        "2100-02-29",
        "2023-02-29",
        "2023-04-31",
        "2023-06-31",
        "2023-09-31",
        "2023-11-31",
        "2023-00-10",
        "2023-13-10",
        "0000-01-01",  # deliberate: year 0000
        "0000-02-29",
        "2023-1-01",
    ],
    "date-time": [
        "2020-01-01 00:00:00Z",  # deliberate: space for T
        "2020-01-01T00:00:00.Z",
        "2020-01-01T00:00:00",
        "2020-01-01T00:00Z",
        "2015-12-31T23:59:60Z",  # no leap second at the end of 2015
        "2016-12-31T23:59:60+01:00",  # 22:59:60 UTC
        "2016-12-31T00:59:60+01:00",  # wrong date for the offset
        "2017-01-01T05:44:60+05:45",  # deliberate: offset minutes 45
        "2016-12-31T23:58:60Z",
        "1971-12-31T23:59:60Z",
    ],
    "time": [
        "23:59:59",
        "24:00:00Z",
        "23:59:61Z",
        "23:59:60+01:00",
        "05:44:60+05:45",  # deliberate: offset minutes 45
        "00:20:60+00:21",  # deliberate: offset minutes 21
        "1:00:00Z",
        "01:00:00+1:00",
        "01:00:00+01",
    ],
    "duration": [
        "P",
        "PT",
        "P1W1D",
        "p1d",  # deliberate: lower case
        "PT1.5S",
        "P1DT",
        "PT1H1S",
        "P1Y1D",
        "P1H",
        "1D",
        "P-1D",
        "P1M1Y",
    ],
    "email": [
        '""@a.b',  # deliberate: empty quoted string
        "a@[IPv6:1:2:3:4:5:6:7::]",  # RFC 5321: "::" stands for two groups or more
        "a@[IPv6:1:2:3:4:5::1.2.3.4]",
        "a@[1.2.3]",
        "a@[01.2.3.4]",  # deliberate: leading zero
        "a@[foo:bar]",  # deliberate: General-address-literal
        "a@-b.c",
        "a@b-.c",
        "a.@b",
        ".a@b",
        "a..b@c",
        "a@b.",
        "a@.b",
        "a@" + "b" * 64 + ".com",  # deliberate: label over 63
        "é@a.b",
        "a@é.b",
        '"a\\é"@b',
        "a b@c",
        "a@b@c",
    ],
    "hostname": [
        "",
        "-a",
        "a-",
        "a_b",
        "a..b",
        "a.",
        "b" * 64,
        "a." + "b" * 64,
        ".".join(["b" * 63] * 3 + ["c" * 62]),  # 254 characters
        ".".join(["c"] * 128),  # 255 characters
        "ab--cd",  # deliberate: reserved LDH label
        "xn--bcher-kva",  # deliberate: A-labels are not checked
        "é.com",
    ],
    "ipv4": ["256.1.1.1", "01.1.1.1", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1..2.3", "00.1.1.1"],
    "ipv6": [
        "1:2:3:4:5:6:7:1.2.3.4",
        ":::",
        "1:2:3:4:5::6:7:8",
        "fffff::",
        "::ffff:1.2.3.04",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1::2::3",
        "[::1]",
        "::1%1",
        "1.2.3.4",
        "::1.2.3",
    ],
    "uuid": [
        "0000000-0000-0000-0000-000000000000",
        "00000000-000-0000-0000-000000000000",
        "00000000-0000-00000-0000-000000000000",
        "00000000-0000-0000-0000-0000000000000",
        "{00000000-0000-0000-0000-000000000000}",
    ],
    "uri": [
        "",
        "http://a@b@c",
        "http://[::1",
        "http://[::1]x",
        "http://a/%zz",
        "http://é.com",
        "http://a b",
        "foo://a/b#c#d",
        "http://a:1x/",
        "http://[v1]/",
        "1a:b",
        "-a:b",
        "a",
        "http://a/\x7f",
    ],
    "uri-reference": ["1:b", "//a:b", "%4", "a b", "#a#b", "[", "\\"],
    "iri": [
        "http://a/\ue000",  # iprivate only in the query
        "http://a/#\ue000",
        "http://a/\ufdd0",
        "http://a/\ufffe",
        "http://a/\U0001fffe",
        "http://[é::1]/",
        "é://a",
        "/a",
    ],
    "iri-reference": ["é:b\\", "\ue000", "#\ue000", "1:é"],
    "uri-template": [
        "{=var}",  # deliberate: reserved operator
        "{!var}",
        "{var:10000}",
        "{var:0}",
        "{",
        "}",
        "%",
        "%4",
        "{a b}",
        "{a..b}",
        "{.a.}",
        "{a*:3}",
        '"',
        "<",
        "\x00",
    ],
    "json-pointer": ["~", "/~", "/~2", "a", "#/a"],
    "relative-json-pointer": ["", "00", "0+1/a", "-1", "#", "0/~", "1#/a", "0##"],
}


@pytest.mark.parametrize(
    ("fmt", "s"), [(f, s) for f, ss in EDGE_VALID.items() for s in ss], ids=repr
)
def test_edge_valid(fmt, s):
    assert accepts(fmt, s)


@pytest.mark.parametrize(
    ("fmt", "s"), [(f, s) for f, ss in EDGE_INVALID.items() for s in ss], ids=repr
)
def test_edge_invalid(fmt, s):
    assert not accepts(fmt, s)


# --------------------------------------------------------------------------------------
# Independent oracles, written from the RFC grammars (not from the regexes)
# --------------------------------------------------------------------------------------

LEAP_SECOND_DATES = {
    datetime.date.fromisoformat(d)
    for d in """1972-06-30 1972-12-31 1973-12-31 1974-12-31 1975-12-31 1976-12-31 1977-12-31
    1978-12-31 1979-12-31 1981-06-30 1982-06-30 1983-06-30 1985-06-30 1987-12-31 1989-12-31
    1990-12-31 1992-06-30 1993-06-30 1994-06-30 1995-12-31 1997-06-30 1998-12-31 2005-12-31
    2008-12-31 2012-06-30 2015-06-30 2016-12-31""".split()
}


def date_ok(s: str) -> bool:
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", s)
    if not m:
        return False
    try:
        datetime.date(*map(int, m.groups()))  # years 1-9999, exact month lengths
    except ValueError:
        return False
    return True


def time_ok(s: str, date: datetime.date | None = None, *, strict: bool = True) -> bool:
    """RFC 3339 full-time; with ``date``, the leap second must be one that happened.

    ``strict``: the documented restriction that leap seconds need offset minutes 00 or 30.
    """
    m = re.fullmatch(
        r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))", s
    )
    if not m:
        return False
    hh, mm, ss = int(m[1]), int(m[2]), int(m[3])
    if hh > 23 or mm > 59 or ss > 60:
        return False
    offset = 0
    if m[4]:
        oh, om = int(m[5]), int(m[6])
        if oh > 23 or om > 59:
            return False
        offset = (oh * 60 + om) * (1 if m[4] == "+" else -1)
        if ss == 60 and strict and om not in (0, 30):
            return False
    if ss != 60:
        return True
    local = hh * 60 + mm
    if (local - offset) % 1440 != 23 * 60 + 59:
        return False
    if date is None:
        return True
    utc_date = date - datetime.timedelta(days=1) if local - offset < 0 else date
    return utc_date in LEAP_SECOND_DATES


def date_time_ok(s: str, *, strict: bool = True) -> bool:
    if len(s) < 11 or s[10] not in "Tt" or not date_ok(s[:10]):
        return False
    return time_ok(s[11:], datetime.date.fromisoformat(s[:10]), strict=strict)


def duration_ok(s: str) -> bool:
    if not s.startswith("P"):
        return False
    body = s[1:]
    if re.fullmatch(r"[0-9]+W", body):
        return True
    date_part, sep, time_part = body.partition("T")

    def units(part: str) -> str | None:
        if not re.fullmatch(r"(?:[0-9]+[A-Z])*", part):
            return None
        return "".join(re.findall(r"[A-Z]", part))

    d, t = units(date_part), units(time_part)
    if d not in {"", "D", "M", "MD", "Y", "YM", "YMD"}:
        return False
    if sep:
        return t in {"H", "HM", "HMS", "M", "MS", "S"}
    return d != ""


LDH = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")


def hostname_ok(s: str) -> bool:
    """RFC 1123 host name, minus reserved LDH labels (IDNA validity is not checkable)."""
    if not 1 <= len(s) <= 253:
        return False
    return all(
        len(label) <= 63 and LDH.fullmatch(label) and label[2:4] != "--" for label in s.split(".")
    )


def ipv4_ok(s: str) -> bool:
    if not re.fullmatch(r"[0-9.]+", s):
        return False
    try:
        ipaddress.IPv4Address(s)  # rejects leading zeros
    except ValueError:
        return False
    return True


def ipv6_ok(s: str) -> bool:
    if not re.fullmatch(r"[0-9A-Fa-f:.]+", s):
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


ATEXT = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")


def email_ok(s: str) -> bool:
    """RFC 5321 Mailbox (address literals: IPv4 or IPv6 only)."""
    if s.startswith('"'):
        i = 1
        while i < len(s) and s[i] != '"':
            if s[i] == "\\":
                if i + 1 >= len(s) or not 32 <= ord(s[i + 1]) <= 126:
                    return False
                i += 2
            elif 32 <= ord(s[i]) <= 126:
                i += 1
            else:
                return False
        if i >= len(s):
            return False
        rest = s[i + 1 :]
        if not rest.startswith("@"):
            return False
        domain = rest[1:]
    else:
        local, at, domain = s.partition("@")
        if not at or not all(atom and set(atom) <= ATEXT for atom in local.split(".")):
            return False
    if domain.startswith("[") and domain.endswith("]"):
        literal = domain[1:-1]
        if literal[:5].lower() == "ipv6:":
            address = literal[5:]
            if not ipv6_ok(address):
                return False
            if "::" in address:
                groups = [g for g in re.split(":+", address) if g]
                return len(groups) <= (5 if "." in address else 6)  # the v4 part is 1 here
            return True
        return bool(re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", literal)) and all(
            int(x) <= 255 for x in literal.split(".")
        )
    return all(LDH.fullmatch(label) for label in domain.split("."))


UNRESERVED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
SUB_DELIMS = set("!$&'()*+,;=")


def ucschar(c: str) -> bool:
    o = ord(c)
    if 0xA0 <= o <= 0xD7FF or 0xF900 <= o <= 0xFDCF or 0xFDF0 <= o <= 0xFFEF:
        return True
    if 0x10000 <= o <= 0xEFFFD:
        return (o & 0xFFFF) <= 0xFFFD and not 0xE0000 <= o < 0xE1000
    return False


def iprivate(c: str) -> bool:
    o = ord(c)
    return 0xE000 <= o <= 0xF8FF or (0xF0000 <= o <= 0x10FFFD and (o & 0xFFFF) <= 0xFFFD)


def chars_ok(s: str, extra: str, *, iri: bool, private: bool = False) -> bool:
    """``s`` is a run of unreserved / pct-encoded / sub-delims / ``extra`` characters."""
    i = 0
    while i < len(s):
        c = s[i]
        if c == "%":
            if not re.fullmatch(r"[0-9A-Fa-f]{2}", s[i + 1 : i + 3]):
                return False
            i += 3
            continue
        if not (
            c in UNRESERVED
            or c in SUB_DELIMS
            or c in extra
            or (iri and ucschar(c))
            or (private and iprivate(c))
        ):
            return False
        i += 1
    return True


APPENDIX_B = re.compile(r"(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#([\s\S]*))?")


def uri_ok(s: str, *, iri: bool = False, reference: bool = False) -> bool:
    """RFC 3986 URI / URI-reference (RFC 3987 IRI / IRI-reference with ``iri``)."""
    m = APPENDIX_B.fullmatch(s)
    scheme, authority, path, query, fragment = m[2], m[4], m[5], m[7], m[9]
    if scheme is None and not reference:
        return False
    if scheme is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return False
    if authority is not None:
        userinfo, at, hostport = authority.rpartition("@")
        if at and not chars_ok(userinfo, ":", iri=iri):
            return False
        if hostport.startswith("["):
            literal, close, port = hostport[1:].partition("]")
            if not close:
                return False
            future = re.fullmatch(r"[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+", literal)
            if not (future or ipv6_ok(literal)):
                return False
            if port and not re.fullmatch(r":[0-9]*", port):
                return False
        else:
            host, colon, port = hostport.partition(":")
            if not chars_ok(host, "", iri=iri) or (colon and not re.fullmatch(r"[0-9]*", port)):
                return False
        if path and not path.startswith("/"):
            return False
    elif scheme is None and ":" in path.split("/")[0]:
        return False  # path-noscheme: no ":" in the first segment of a relative path
    if not all(chars_ok(seg, ":@", iri=iri) for seg in path.split("/")):
        return False
    if query is not None and not chars_ok(query, ":@/?", iri=iri, private=iri):
        return False
    return fragment is None or chars_ok(fragment, ":@/?", iri=iri)


TEMPLATE_VARSPEC = re.compile(
    r"(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*"
    r"(?::[1-9][0-9]{0,3}|\*)?"
)


def uri_template_ok(s: str) -> bool:
    """RFC 6570 level 4 with erratum 6937 (operators =,!@| count as an error)."""
    i = 0
    while i < len(s):
        c, o = s[i], ord(s[i])
        if c == "{":
            end = s.find("}", i)
            if end < 0:
                return False
            body = s[i + 1 : end]
            if body[:1] in set("+#./;?&"):
                body = body[1:]
            if not all(TEMPLATE_VARSPEC.fullmatch(v) for v in body.split(",")):
                return False
            i = end + 1
        elif c == "%":
            if not re.fullmatch(r"[0-9A-Fa-f]{2}", s[i + 1 : i + 3]):
                return False
            i += 3
        elif (
            o == 0x21
            or 0x23 <= o <= 0x24
            or 0x26 <= o <= 0x3B
            or o in (0x3D, 0x5D, 0x5F, 0x7E)
            or 0x3F <= o <= 0x5B
            or 0x61 <= o <= 0x7A
            or ucschar(c)
            or iprivate(c)
        ):
            i += 1
        else:
            return False
    return True


def json_pointer_ok(s: str) -> bool:
    return s == "" or (s.startswith("/") and re.fullmatch(r"(?:[^~]|~[01])*", s) is not None)


def relative_json_pointer_ok(s: str) -> bool:
    m = re.fullmatch(r"(0|[1-9][0-9]*)([\s\S]*)", s)
    return bool(m) and (m[2] == "#" or json_pointer_ok(m[2]))


def uuid_ok(s: str) -> bool:
    return re.fullmatch(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", s) is not None


ORACLES = {
    "date": date_ok,
    "date-time": functools.partial(date_time_ok, strict=False),
    "time": functools.partial(time_ok, strict=False),
    "duration": duration_ok,
    "email": email_ok,
    "hostname": hostname_ok,
    "ipv4": ipv4_ok,
    "ipv6": ipv6_ok,
    "uuid": uuid_ok,
    "uri": uri_ok,
    "uri-reference": functools.partial(uri_ok, reference=True),
    "iri": functools.partial(uri_ok, iri=True),
    "iri-reference": functools.partial(uri_ok, iri=True, reference=True),
    "uri-template": uri_template_ok,
    "json-pointer": json_pointer_ok,
    "relative-json-pointer": relative_json_pointer_ok,
}


def test_every_format_has_an_oracle():
    assert set(ORACLES) == set(FORMAT_REGEXES)


@pytest.mark.parametrize("fmt", sorted(EDGE_VALID))
def test_edge_cases_agree_with_the_oracles(fmt):
    """Hand-written valid cases are valid for the oracle too (they check each other)."""
    for s in EDGE_VALID[fmt]:
        assert ORACLES[fmt](s), s


# --------------------------------------------------------------------------------------
# Systematic sweeps: exact agreement with the oracle on structured inputs
# --------------------------------------------------------------------------------------


def test_date_sweep():
    years = ["0000", "0001", "0004", "0100", "0400", "1582", "1900", "1996", "1999", "2000"]
    years += ["2020", "2021", "2023", "2024", "2100", "2400", "9996", "9999"]
    for y in years:
        for mo in range(0, 14):
            for d in range(0, 33):
                s = f"{y}-{mo:02d}-{d:02d}"
                assert accepts("date", s) == date_ok(s), s


def test_time_sweep():
    offsets = ["Z", "z", "+00:00", "-00:00", "+01:00", "-08:00", "+05:30", "-23:30", "+23:00"]
    offsets += ["+23:59", "+00:20", "-05:45", "+24:00", "+00:60", "+1:00", "+01:0"]
    g = grammar("time")
    for hh in list(range(25)) + [99]:
        for mm in (0, 1, 29, 30, 44, 58, 59, 60):
            for ss in (0, 9, 59, 60, 61):
                for off in offsets:
                    for frac in ("", ".5"):
                        s = f"{hh:02d}:{mm:02d}:{ss:02d}{frac}{off}"
                        assert g.accepts(s) == time_ok(s), s


def test_date_time_leap_second_sweep():
    """Every leap second and the day after it, under offsets of 30 and 45 minute steps."""
    days = {datetime.date(2015, 12, 31), datetime.date(2020, 6, 30)}
    for d in LEAP_SECOND_DATES:
        days |= {d, d + datetime.timedelta(days=1)}
    g = grammar("date-time")
    offsets = ["Z", "+00:00", "-00:00"] + [
        f"{sign}{h:02d}:{m:02d}" for sign in "+-" for h in range(24) for m in (0, 30, 45)
    ]
    for day in sorted(days):
        for off in offsets:
            if off in ("Z", "+00:00", "-00:00"):
                minutes = 0
            else:
                minutes = int(off[1:3]) * 60 + int(off[4:6])
                minutes *= 1 if off[0] == "+" else -1
            local = (23 * 60 + 59 + minutes) % 1440
            for lt in {local, (local + 1) % 1440, 23 * 60 + 59}:
                s = f"{day.isoformat()}T{lt // 60:02d}:{lt % 60:02d}:60{off}"
                assert g.accepts(s) == date_time_ok(s), s


def test_duration_sweep():
    """Every token string up to 4 tokens, and every subsequence of the full form."""
    tokens = ["1Y", "2M", "3D", "T", "4H", "5M", "6S", "7W"]
    cases = ["P" + "".join(c) for n in range(5) for c in itertools.product(tokens, repeat=n)]
    full = tokens[:7]
    for mask in range(1 << len(full)):
        body = "".join(t for i, t in enumerate(full) if mask >> i & 1)
        cases += ["P" + body, "P" + body + "7W", "P7W" + body]
    g = grammar("duration")
    for s in cases:
        assert g.accepts(s) == duration_ok(s), s


def test_hostname_label_sweep():
    """Single labels over {a, 0, -} up to 7 characters, exact."""
    g = grammar("hostname")
    for n in range(1, 8):
        for combo in itertools.product("a0-", repeat=n):
            s = "".join(combo)
            assert g.accepts(s) == hostname_ok(s), s
            s2 = f"x.{s}.y"
            assert g.accepts(s2) == hostname_ok(s2), s2


def test_hostname_length_limits():
    g = grammar("hostname")
    for n in range(55, 70):
        for parts in ([n], [n, 3], [3, n], [2, 5, n, 4], [n, n], [n, n, n], [n, n, n, n]):
            s = ".".join("h" * k for k in parts)
            if g.accepts(s):
                assert hostname_ok(s), s
            elif n <= 62 and len(parts) <= 4:
                raise AssertionError(f"{s!r} is within a documented shape")
    for count in (126, 127, 128):
        s = ".".join(["x"] * count)
        assert g.accepts(s) == (count <= 127)


def test_ipv4_sweep():
    octets = ["0", "00", "01", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255"]
    octets += ["256", "260", "300", "999", "1000", ""]
    g = grammar("ipv4")
    for combo in itertools.product(octets, repeat=3):
        for last in ("0", "255", "256", "01"):
            s = ".".join((*combo, last))
            assert g.accepts(s) == ipv4_ok(s), s


def test_ipv6_sweep():
    """Every group count left and right of "::" (or none), with and without an IPv4 tail."""
    g = grammar("ipv6")
    for left, right in itertools.product(range(10), repeat=2):
        for group in ("1", "ffff", "0abc"):
            for tail in ("", "1.2.3.4"):
                lpart = ":".join([group] * left)
                rpart = ":".join([group] * right + ([tail] if tail else []))
                for s in (f"{lpart}::{rpart}", f"{lpart}:{rpart}" if lpart and rpart else lpart):
                    assert g.accepts(s) == ipv6_ok(s), s


RANDOM_ALPHABETS = {
    "uri": list("a:/?#[]@%1fFv.-!~;=") + ["é", "\ue000", "%41", "//", "::", "v1.", "1.2.3.4"],
    "uri-template": list("{}a,.:*+#/%1=!'\" é") + ["%41", "\ue000", "\x7f", ":10", "9999"],
    "json-pointer": list("/~01a\n"),
    "relative-json-pointer": list("/~01#a9"),
    "duration": list("PTYMDHWS01"),
    "email": list('a.@"\\ []:1-') + ["IPv6:", "::", "1.2.3.4", "é", "b"],
}
EXACT_FORMATS = {  # formats whose regex is exact on these alphabets
    "uri": "uri",
    "uri-reference": "uri",
    "iri": "uri",
    "iri-reference": "uri",
    "uri-template": "uri-template",
    "json-pointer": "json-pointer",
    "relative-json-pointer": "relative-json-pointer",
    "duration": "duration",
}


@pytest.mark.parametrize("fmt", sorted(EXACT_FORMATS))
def test_random_strings_agree_with_the_oracle(fmt):
    rnd = random.Random(fmt)
    alphabet = RANDOM_ALPHABETS[EXACT_FORMATS[fmt]]
    g = grammar(fmt)
    for _ in range(3000):
        s = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        assert g.accepts(s) == ORACLES[fmt](s), s


def test_random_strings_email():
    rnd = random.Random(0)
    g = grammar("email")
    for _ in range(3000):
        s = "".join(rnd.choice(RANDOM_ALPHABETS["email"]) for _ in range(rnd.randint(0, 12)))
        if g.accepts(s):
            assert email_ok(s), s


# --------------------------------------------------------------------------------------
# Mutations of valid strings: accepted implies valid
# --------------------------------------------------------------------------------------

FORMAT_CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER
ALPHABET = list("0123456789aAfFzZtTxXvV-:./%@[]#?+ ~\"\\{},*'()_=!$&;<>|^`\n\t") + [
    "é",
    "\u00a0",
    "\ue000",
    "\ufdd0",
    "\U0001f600",
    "\x00",
    "\x7f",
    "60",
    "::",
    "xn--",
    "%4",
    "%41",
]


@functools.lru_cache(maxsize=None)
def seeds(fmt: str) -> list[str]:
    out = list(EDGE_VALID.get(fmt, []))
    for draft in DRAFTS:
        out += [s for s, valid, _ in suite_strings(draft, fmt) if valid]
    return sorted(set(out))


def mutate(s: str, ops: list[tuple[int, int, str]]) -> str:
    for kind, pos, text in ops:
        pos = pos % (len(s) + 1)
        if kind == 0:
            s = s[:pos] + text + s[pos:]
        elif kind == 1:
            s = s[:pos] + s[pos + 1 :]
        elif kind == 2:
            s = s[:pos] + text + s[pos + 1 :]
        else:
            s = s[:pos] + s[pos : pos + 3] + s[pos:]
    return s


def jsonschema_agrees(fmt: str, s: str) -> bool:
    if fmt not in FORMAT_CHECKER.checkers:
        return True
    if fmt in ("time", "date-time") and ":60" in s:
        return True  # jsonschema (rfc3339-validator) knows no leap seconds
    if fmt == "relative-json-pointer" and re.match(r"[0-9]*0[0-9]", s):
        # jsonschema rejects any digit after a "0" (e.g. "100", valid in the suite).
        return True
    return FORMAT_CHECKER.conforms(s, fmt)


@pytest.mark.parametrize("fmt", sorted(FORMAT_REGEXES))
@settings(
    derandomize=True,
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutations_accepted_only_if_valid(fmt, seed):
    # Forty mutations per example (from a seeded PRNG) keep hypothesis's per-example
    # overhead small; a failure prints the offending string.
    rnd = random.Random(seed)
    pool = seeds(fmt)
    for _ in range(40):
        ops = [
            (rnd.randrange(4), rnd.randrange(300), rnd.choice(ALPHABET))
            for _ in range(rnd.randint(1, 3))
        ]
        s = mutate(pool[rnd.randrange(len(pool))], ops)
        if accepts(fmt, s):
            assert ORACLES[fmt](s), s
            assert jsonschema_agrees(fmt, s), s


# ---------------------------------------------------------------------------------------
# Formats given as EBNF rules: regex (context-free) and idn-hostname (IDNA2008)
# ---------------------------------------------------------------------------------------

from xgram.json_schema.formats import (  # noqa: E402
    FORMAT_GRAMMARS,
    format_grammar,
    format_grammar_matches,
)
from xgram.json_schema.idn_formats import punycode_weight  # noqa: E402

#: Valid suite strings the grammars reject on purpose (each named in the module docstring).
GRAMMAR_FALSE_NEGATIVES = {
    "regex": frozenset({"(?<n>a)\\k<n>"}),  # named backreference
    "idn-hostname": frozenset(
        {"xn--ihqwcrb4cv8a8dqg056pqjye"}  # A-labels are rejected
        | {"παράδειγμα" * 5 + "πα" + sep + "com" for sep in ".。．｡"}  # A-label bound
    ),
}
GRAMMAR_SUITE_FILES = {"regex": ("regex", "ecmascript-regex"), "idn-hostname": ("idn-hostname",)}


def test_grammar_formats_api():
    assert FORMAT_GRAMMARS == {"regex", "idn-hostname"}
    assert not FORMAT_GRAMMARS & set(FORMAT_REGEXES)
    assert FORMAT_GRAMMARS.isdisjoint(KNOWN_UNSUPPORTED)  # the emitter takes their rules
    for name in ("date", "no-such-format", "idn-email"):
        assert format_grammar(name) is None
    regex = format_grammar("regex")
    assert regex is not None and not regex.regular and regex.root in regex.rules
    assert all(name.startswith("format_regex") for name in regex.rules)
    with pytest.raises(KeyError):
        format_grammar_matches("date", "2020-01-01")


@pytest.mark.skipif(not SUITE.is_dir(), reason=SUITE_MISSING)
@pytest.mark.parametrize("draft", DRAFTS)
@pytest.mark.parametrize("fmt", sorted(FORMAT_GRAMMARS))
def test_grammar_format_suite(draft, fmt):
    allow = GRAMMAR_FALSE_NEGATIVES[fmt]
    checked = 0
    for stem in GRAMMAR_SUITE_FILES[fmt]:
        path = SUITE / "tests" / draft / "optional" / "format" / f"{stem}.json"
        if not path.is_file():
            continue
        for case in json.loads(path.read_text(encoding="utf-8")):
            for test in case["tests"]:
                if not isinstance(test["data"], str):
                    continue
                got = format_grammar_matches(fmt, test["data"])
                checked += 1
                if test["valid"] and test["data"] in allow:
                    assert not got, f"{test['data']!r} now passes: drop it from the allowlist"
                else:
                    assert got == test["valid"], (test["description"], test["data"])
    assert checked


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("", True),
        ("a|b|", True),
        ("^[a-z0-9_-]+$", True),
        ("[-a-f]", True),
        ("\\d{2,10}?", True),
        ("a{3}", True),
        ("a{3,}", True),
        ("(?:x|(y))*", True),
        ("(?!a)b", True),
        ('say "hi"/', True),
        ("tab\there\n", True),
        ("\\x41\\u00e9\\/\\.", True),
        ("[\\]\\-\\b]", True),
        ("(?<x>a)", True),
        ("(", False),
        (")", False),
        ("a]", False),
        ("a{", False),
        ("{1}", False),
        ("a{5,2}", False),
        ("a{10,9}", False),
        ("*a", False),
        ("a+*", False),
        ("(?=a)*", False),
        ("[z-a]", False),
        ("[a--]", False),
        ("\\p{L}", False),
        ("\\u{41}", False),
        ("\\e", False),
        ("(?<x>a)(?<x>b)", False),
        ("(?<1x>a)", False),
        ("\\1", False),  # no group
        ("\\k<n>", False),
        ("(?i)a", False),
    ],
)
def test_regex_format_cases(pattern, valid):
    assert format_grammar_matches("regex", pattern) is valid


def test_regex_format_subset_of_python_re():
    # Whatever the grammar accepts in this sample must at least compile in Python's re
    # (close to ECMA-262 for these constructs), a cheap independent check.
    rng = random.Random(19)
    atoms = [
        "a",
        "b",
        ".",
        "\\d",
        "\\w",
        "[a-c]",
        "[^x]",
        "(",
        ")",
        "|",
        "*",
        "+",
        "?",
        "{2}",
        "{1,3}",
        "^",
        "$",
        "(?:",
        "(?=",
        "\\.",
        "[",
        "]",
        "-",
        "{",
        "}",
    ]
    accepted = 0
    for _ in range(3000):
        pattern = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 7)))
        if format_grammar_matches("regex", pattern):
            accepted += 1
            if "[]" not in pattern and "[^]" not in pattern:  # ECMA-262 only
                re.compile(pattern)
    assert accepted > 200


def test_regex_format_safe_subset_is_valid():
    # strings over the safe subset's characters are patterns (what lets a pattern
    # that confines a value to them stand in for the format)
    safe = format_grammar("regex").safe_subset
    rng = random.Random(3)
    pool = "ab.^$|/-:,=!<>#é\t \"'"
    for _ in range(500):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 8)))
        assert re.fullmatch(safe, text)
        assert format_grammar_matches("regex", text), text


@pytest.mark.parametrize(
    ("extra", "cases"),
    [
        ({"minLength": 1}, {"": False, "a|": True, "|": True, "(a)": True, "^$": True, "(": False}),
        # the pattern confines values to the safe subset: the format adds nothing
        ({"pattern": "^[0-9:.-]+$"}, {"1:2.5": True, "12": True, "": False, "1(": False}),
        ({"pattern": "^(a|b)$", "minLength": 1}, {"a": True, "b": True, "ab": False}),
    ],
)
def test_regex_format_beside_other_constraints(extra, cases):
    g = xgram.Grammar.from_json_schema({"type": "string", "format": "regex", **extra})
    for text, valid in cases.items():
        assert g.accepts(json.dumps(text)) is valid, text


@pytest.mark.parametrize("extra", [{"minLength": 2}, {"maxLength": 5}, {"pattern": "^a"}])
def test_regex_format_beside_other_constraints_still_refused(extra):
    with pytest.raises(xgram.SchemaError, match="next to other string constraints"):
        xgram.Grammar.from_json_schema({"type": "string", "format": "regex", **extra})


def test_punycode_weight_bounds_real_encodings():
    idna = pytest.importorskip("idna")
    rng = random.Random(5)
    pools = ["üßàé", "αβγδεζ", "абвгд", "中文字例", "한국어", "ひらがな", "𝔞𝔟"]
    for _ in range(300):
        pool = rng.choice(pools)
        label = "".join(rng.choice(pool + "abc") for _ in range(rng.randint(1, 12)))
        if all(ord(c) < 0x80 for c in label):
            continue
        try:
            a_label = idna.encode(label).decode()
        except idna.IDNAError:
            continue
        bound = 5 + sum(1 if ord(c) < 0x80 else punycode_weight(ord(c)) for c in label)
        assert len(a_label) <= bound, (label, a_label)


def _idna_and_bidi_valid(name):
    """Reference check: idna.encode, plus RFC 5893's Bidi rule on every label of a name
    holding a right-to-left label (idna checks only right-to-left labels)."""
    idna = pytest.importorskip("idna")
    try:
        idna.encode(name)
    except (idna.IDNAError, UnicodeError):
        return False
    labels = re.split("[.\u3002\uff0e\uff61]", name)
    bidi_domain = any(
        unicodedata.bidirectional(c) in ("R", "AL", "AN") for label in labels for c in label
    )
    if bidi_domain:
        try:
            for label in labels:
                idna.core.check_bidi(label, check_ltr=True)
        except idna.IDNAError:
            return False
    return all(unicodedata.is_normalized("NFC", label) for label in labels)


def test_idn_hostname_accepts_only_valid_names():
    pytest.importorskip("idna")
    rng = random.Random(2019)
    pieces = (
        list("abl0-.。")
        + list("üßéαβͅ͵гдאב׳ابي٠۰١")
        + [
            "\u0301",
            "\u0308",
            "\u093c",
            "\u094d",
            "\u200c",
            "\u200d",
            "\u00b7",
            "\u30fb",
            "ぁ",
            "ァ",
            "丈",
            "क",
            "ष",
            "த",
            "\u0bbe",
            "\u0bc6",
            "실",
            "\u302e",
            "\u0640",
        ]
    )
    accepted = 0
    for _ in range(4000):
        name = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 9)))
        if format_grammar_matches("idn-hostname", name):
            accepted += 1
            assert _idna_and_bidi_valid(name), name
    assert accepted > 300


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("bücher.example", True),
        ("Example.COM", True),
        ("münchen-hauptbahnhof.de", True),
        ("中文字例子网站.中国", True),
        ("ab--c.com", False),
        ("a" * 63 + ".b", True),
        ("ü" * 12, False),  # A-label bound over 63 (5 per 2-byte code point)
        ("ü" * 11, True),
        ("e\u0301.com", False),  # not NFC
        ("é.com", True),
        ("a\u0301\u0302", False),  # two combining marks in a row
        (".".join(["ab"] * 40), True),  # all-ASCII names keep the hostname shapes
    ],
)
def test_idn_hostname_cases(name, valid):
    assert format_grammar_matches("idn-hostname", name) is valid
