"""The example grammars in grammars/ and their sample inputs, via the Python API."""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import List, Tuple

import pytest

import xgram

REPO = Path(__file__).resolve().parent.parent
GRAMMARS = REPO / "grammars"
EXAMPLES = GRAMMARS / "examples"
EXPECTED_GRAMMARS = {"json", "arithmetic", "list", "chess", "minilang"}


def grammar_names() -> List[str]:
    return sorted(p.stem for p in GRAMMARS.glob("*.ebnf"))


@cache
def load(name: str) -> xgram.Grammar:
    return xgram.Grammar.from_ebnf((GRAMMARS / f"{name}.ebnf").read_text(encoding="utf-8"))


def examples(kind: str) -> List[Tuple[str, Path]]:
    return [
        (name, path)
        for name in grammar_names()
        for path in sorted((EXAMPLES / name).glob(f"{kind}_*.txt"))
    ]


def example_id(item: Tuple[str, Path]) -> str:
    return f"{item[0]}/{item[1].name}"


# ---------------------------------------------------------------------------
# Layout of grammars/
# ---------------------------------------------------------------------------


def test_expected_grammars_exist():
    assert EXPECTED_GRAMMARS <= set(grammar_names())


@pytest.mark.parametrize("name", grammar_names())
def test_grammar_has_header_comment(name):
    text = (GRAMMARS / f"{name}.ebnf").read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    assert len(header) >= 3, f"{name}.ebnf should start with a comment describing it"


@pytest.mark.parametrize("name", grammar_names())
def test_grammar_has_examples(name):
    folder = EXAMPLES / name
    assert len(list(folder.glob("valid_*.txt"))) >= 3
    assert len(list(folder.glob("invalid_*.txt"))) >= 3
    stray = [p.name for p in folder.iterdir() if not p.name.startswith(("valid_", "invalid_"))]
    assert not stray


@pytest.mark.parametrize("name", grammar_names())
def test_grammar_loads_and_prints_back(name):
    g = load(name)
    assert g.root_rule_name == "root"
    stats = g.automaton_stats()
    assert stats["states"] > 0 and stats["rules"] == len(g.rule_names)
    # str(g) is EBNF for an equivalent grammar: it must accept the same examples.
    again = xgram.Grammar.from_ebnf(str(g))
    for path in sorted((EXAMPLES / name).glob("*.txt")):
        data = path.read_bytes()
        assert again.check(data) == g.check(data), path.name


# ---------------------------------------------------------------------------
# Sample inputs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("item", examples("valid"), ids=example_id)
def test_valid_example_accepted(item):
    name, path = item
    result = load(name).check(path.read_bytes())
    assert result.status == "accepted", result


@pytest.mark.parametrize("item", examples("invalid"), ids=example_id)
def test_invalid_example_rejected(item):
    name, path = item
    data = path.read_bytes()
    g = load(name)
    result = g.check(data)
    assert result.status == "rejected", result
    assert not g.accepts(data) and not g.accepts_prefix(data)
    # Everything before the reported byte is still a valid prefix.
    assert g.accepts_prefix(data[: result.offset])


# ---------------------------------------------------------------------------
# Extra cases for each grammar
# ---------------------------------------------------------------------------

EXTRA = {
    "arithmetic": (
        ["0", "1.5", " ( 2 ) ", "1-2-3", "1--2", "-(-(1))", "8 / 2 / 2", "10*(2+3)/-4.25"],
        ["", "1 +", "()", "1 2", ".5", "1..2", "(1", "1)", "1 +\n", "* 2"],
    ),
    "list": (
        ["- a\n", "* [ ] todo\n", "- a\n  - b\n    - c\n  - d\n- e\n", "+ [x] done\n"],
        ["", "- a", "  - a\n", "- a\n\n- b\n", "-  a\n", "- a\n      - b\n", "-\ta\n"],
    ),
    "chess": (
        [
            "1. e4",
            "1. Nf3 Nf6 2. c4 g6 3. Nc3 Bg7 4. d4 O-O",
            "1. e4 e5 2. Qh5?! Nc6 3. Bc4 Nf6?? 4. Qxf7# 1-0",
            "12. Raxd1 Nbd7 13. R1e2 Qh4xe1+ *",
            "1. d4 {queen's pawn} d5 1/2-1/2",
            "5... bxa1=N+",
        ],
        [
            "",
            "e4",
            "1. e9",
            "1. Pe4",
            "1. e4 e5 e6",
            "1. exd5=Q",
            "1. e7=K",
            "1. Nf3 1-1",
            "01. e4",
            "1. e4 e5 2. Nf3 Nc6 0-1 2. d4",
        ],
    ),
    "minilang": (
        [
            "x = 1;",
            "fn main() { }",
            "let a = f(1, 2)(3);",
            "if (a) { } else if (b) { } else { }",
            "while (i < 10) { i = i + 1; }",
            "return;",
            "let x = 1; // done",
            "let x = 1 // one\n;",
            "letter = 1;",
            "{ { } }",
        ],
        [
            "let 1 = x;",
            "let x = 1 //;",
            "x = ;",
            "fn (a) { }",
            "if a { }",
            "let x == 1;",
            "f(,);",
            "if (x) { } elseif { }",
            "x = 'c';",
            "while (x) y = 1;",
            "letx = 1 +;",
        ],
    ),
    "json": (
        ['{"a":[1,2,{"b":null}]}', "-0", "0.0e-0", '"\\ud83d\\ude00"', "[[]]"],
        ["", "+1", "1.", ".1", "01", '"\\u12G4"', "[1 2]", "{1: 2}", "nul", "tru e"],
    ),
}


def extra_cases(accepted: bool) -> List[Tuple[str, str]]:
    return [(name, text) for name, cases in EXTRA.items() for text in cases[0 if accepted else 1]]


@pytest.mark.parametrize("name,text", extra_cases(True))
def test_extra_accepted(name, text):
    assert load(name).accepts(text), load(name).check(text)


@pytest.mark.parametrize("name,text", extra_cases(False))
def test_extra_not_accepted(name, text):
    assert not load(name).accepts(text)


# ---------------------------------------------------------------------------
# json.ebnf against the builtin JSON grammar
# ---------------------------------------------------------------------------

JSON_SAMPLES = [
    "",
    " ",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "12",
    "012",
    "-",
    "1.5",
    "1.",
    ".5",
    "1e5",
    "1E+5",
    "1e-5",
    "1e",
    "1.5e3x",
    "-12.5E-03",
    '""',
    '"abc"',
    '"a\\"b"',
    '"\\\\"',
    '"\\/"',
    '"\\b\\f\\n\\r\\t"',
    '"\\u00e9"',
    '"\\u00E9"',
    '"\\u00g9"',
    '"\\x41"',
    '"\\a"',
    '"tab\there"',
    '"new\nline"',
    '"é😀€"',
    '"unterminated',
    "[]",
    "[ ]",
    "[1]",
    "[1,]",
    "[,1]",
    "[1,,2]",
    "[1 , 2 ,3]",
    "[[[[]]]]",
    "[[[[]]]",
    "{}",
    "{ }",
    '{"a":1}',
    '{"a" : 1 , "b" : [true, false, null]}',
    '{"a":}',
    '{"a"1}',
    "{a:1}",
    '{"a":1,}',
    '{,"a":1}',
    "{'a':1}",
    '{"a":{"b":{"c":{}}}}',
    " \t\n\r[1]\r\n\t ",
    "[1] [2]",
    "nulll",
    "True",
    "NaN",
    "Infinity",
    "-Infinity",
    "\ufeff{}",
    "\x00",
    '"\x7f"',
    '"\x1f"',
]


@cache
def builtin_json() -> xgram.Grammar:
    return xgram.Grammar.builtin_json_grammar()


def assert_same_as_builtin(data: bytes) -> None:
    ours, theirs = load("json").check(data), builtin_json().check(data)
    assert ours == theirs, (data, ours, theirs)


@pytest.mark.parametrize("text", JSON_SAMPLES)
def test_json_matches_builtin_on_samples(text):
    assert_same_as_builtin(text.encode("utf-8"))


@pytest.mark.parametrize(
    "data",
    [
        b'"\xff"',
        b'"\xc3"',
        b'"\xc3\xa9"',
        b'"\xed\xa0\x80"',
        b'"\xf4\x90\x80\x80"',
        b"\xef\xbb\xbf1",
    ],
)
def test_json_matches_builtin_on_raw_bytes(data):
    assert_same_as_builtin(data)


def random_json_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 7, 10 ** rng.randrange(20), -rng.randrange(10**6)])
    if kind == 3:
        return rng.choice([0.5, -2.25, 1e-7, 6.02e23, -0.0, rng.uniform(-1e6, 1e6)])
    if kind == 4:
        alphabet = 'ab \\"/\n\t\x01é€😀\u2028'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if kind in (5, 6):
        return [random_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        str(random_json_value(rng, depth + 1)): random_json_value(rng, depth + 1)
        for _ in range(rng.randrange(4))
    }


def random_json_documents(count: int, seed: int) -> List[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        value = random_json_value(rng)
        indent = rng.choice([None, 0, 2])
        docs.append(json.dumps(value, indent=indent, ensure_ascii=rng.random() < 0.5))
    return docs


def test_json_accepts_json_dumps_output():
    for doc in random_json_documents(200, seed=1):
        assert load("json").accepts(doc), doc
        assert builtin_json().accepts(doc), doc


def test_json_matches_builtin_on_prefixes_and_mutations():
    rng = random.Random(2)
    alphabet = list('{}[],:"\\ 0123456789-+.eEtrufalsn\n\tx\x00é') + ["\\u", "😀"]
    for doc in random_json_documents(60, seed=3):
        data = doc.encode("utf-8")
        # Every prefix of a document: both grammars must agree (accepted or prefix).
        for cut in range(0, len(data) + 1, max(1, len(data) // 25)):
            assert_same_as_builtin(data[:cut])
        # Random single-character insertions, deletions and replacements.
        for _ in range(10):
            chars = list(doc)
            pos = rng.randrange(len(chars) + 1)
            op = rng.randrange(3)
            if op == 0 or not chars:
                chars.insert(pos, rng.choice(alphabet))
            elif op == 1:
                del chars[min(pos, len(chars) - 1)]
            else:
                chars[min(pos, len(chars) - 1)] = rng.choice(alphabet)
            assert_same_as_builtin("".join(chars).encode("utf-8"))


def test_json_matches_builtin_on_random_bytes():
    rng = random.Random(4)
    pieces = [b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b" ", b"1", b"0", b"-", b"."]
    pieces += [b"e", b"true", b"null", b"\\u00", b"\xc3\xa9", b"\xff", b"\n", b"a"]
    for _ in range(500):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        assert_same_as_builtin(data)
