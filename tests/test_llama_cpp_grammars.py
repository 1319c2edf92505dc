"""llama.cpp's example GBNF grammars, unchanged, must work with xgram.

The grammars live in tests/data/llama_cpp_grammars/ (see the README there for
their origin and licence). Every one must parse and compile; those with obvious
inputs are also checked on valid and invalid samples. The samples follow the
grammars exactly as written, quirks included (e.g. json.gbnf's exponent is
`[0-9] [1-9]{0,15}`, so `1e10` is not in its language).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

import xgram

DATA_DIR = Path(__file__).parent / "data" / "llama_cpp_grammars"
GRAMMAR_FILES: List[Path] = sorted(DATA_DIR.glob("*.gbnf")) if DATA_DIR.is_dir() else []

print(f"llama.cpp grammars: {len(GRAMMAR_FILES)} found in {DATA_DIR}")
if not GRAMMAR_FILES:
    pytest.skip(
        f"llama.cpp grammar data missing: {len(GRAMMAR_FILES)} .gbnf files in {DATA_DIR}",
        allow_module_level=True,
    )

EXPECTED_FILES = {
    "arithmetic.gbnf",
    "c.gbnf",
    "chess.gbnf",
    "english.gbnf",
    "japanese.gbnf",
    "json.gbnf",
    "json_arr.gbnf",
    "list.gbnf",
}

_cache: Dict[str, xgram.Grammar] = {}


def grammar(name: str) -> xgram.Grammar:
    if name not in _cache:
        text = (DATA_DIR / name).read_text(encoding="utf-8")
        _cache[name] = xgram.Grammar.from_ebnf(text)
    return _cache[name]


def test_data_is_complete() -> None:
    names = {p.name for p in GRAMMAR_FILES}
    print(f"{len(names)} llama.cpp grammars: {sorted(names)}")
    assert EXPECTED_FILES <= names
    assert (DATA_DIR / "LICENSE").is_file()
    assert "MIT License" in (DATA_DIR / "LICENSE").read_text(encoding="utf-8")
    assert (DATA_DIR / "README.md").is_file()


@pytest.mark.parametrize("path", GRAMMAR_FILES, ids=[p.name for p in GRAMMAR_FILES])
def test_grammar_parses_and_compiles(path: Path) -> None:
    g = grammar(path.name)
    assert g.root_rule_name == "root"
    stats = g.automaton_stats()
    assert stats["states"] > 0
    # The printed grammar parses back, and prints the same from then on.
    s1 = str(g)
    g2 = xgram.Grammar.from_ebnf(s1)
    s2 = str(g2)
    assert str(xgram.Grammar.from_ebnf(s2)) == s2
    g2.automaton_stats()


SAMPLES = {
    "json.gbnf": (
        [
            "{}",
            '{"a": 1}',
            '{"a":1}',
            '{"a": 1, "b": 2}',
            '{"a": [1, 2.5, "x", true, null, {"b": false}]}',
            '{"k": "\\u00e9\\n\\"q\\""}',
            '{"n": -0.5, "e": 1e5, "E": 2E-7}',
            '{\n  "a": 1,\n  "b": [\n    1\n  ]\n}',
            '{"s": "日本語 😀"}',
            "{} ",
        ],
        [
            "",
            "[]",
            "1",
            '{"a" 1}',
            '{"a": 01}',
            '{"a": tru}',
            "{a: 1}",
            '{"a": 1,}',
            '{"a":  1}',  # ws is at most one space
            '{"s": "\x01"}',
            '{"s": "\\x"}',
            '{"e": 1e10}',  # exponent is [0-9] [1-9]{0,15} in this grammar
            "{}  ",
        ],
    ),
    "json_arr.gbnf": (
        [
            "[\n]",
            "[\n1]",
            "[\n1,\n2]",
            '[\n{"a": [1, 2]},\n"x",\ntrue]',
            "[\n1e10]",
            "[\n\n  null]",
        ],
        [
            "[]",
            "[\n1, 2]",
            "[\n1]\n",
            "[\n1,\n]",
            "{}",
            "[\n1e05]",
        ],
    ),
    "arithmetic.gbnf": (
        [
            "1+2=3\n",
            "x = 4\n",
            "(a +b)*2 = c\n",  # no space is allowed after an operator
            "1=1\n2=2\n",
            "foo_1/bar2-3=x\n",
            "( ( 1 ) )=2\n",
        ],
        [
            "",
            "1+2=3",
            "=3\n",
            "1+=3\n",
            "A=1\n",
            "1+2=3+4\n",
            "(1=1\n",
            "(a + b)=c\n",
        ],
    ),
    "list.gbnf": (
        [
            "- a\n",
            "- milk\n- eggs 🥚\n",
            "- tab\there\n",
            "- \u00a0\n",
        ],
        [
            "",
            "- \n",
            "-a\n",
            "- a",
            "- a\u2028b\n",
            "- a\x85\n",
            "- a\rb\n",
            "- a\x0bb\n",
            "- a\n\n",
        ],
    ),
    "chess.gbnf": (
        [
            "1. e4 e5\n2. Nf3 Nc6\n",
            "1. e4 e5\n2. Nf3 Nc6\n3. Bb5 a6\n",
            "1. d4 d5\n2. c4 dxc4\n",
            "1. e4 e5\n2. Qh5 Nc6\n3. Bc4 Nf6\n4. Qxf7# Ke7\n",
            "1. e4 e5\n2. O-O O-O-O\n",
            "1. e4 d5\n2. exd5 c6\n3. d6 c5\n4. d7+ Kd8\n5. dxc8=Q+ Kxc8\n",
            "1. e4 e5\n12. Nbd2 R1a7\n",
        ],
        [
            "",
            "1. e4 e5\n",
            "1. e9 e5\n2. Nf3 Nc6\n",
            "1. e4 e5\n0. a3 a6\n",
            "1. O-O-O-O e5\n2. a3 a6\n",
            "1. e4 e5\n2. Nf3 Nc6",
            "2. e4 e5\n3. Nf3 Nc6\n",
            "1. e4  e5\n2. Nf3 Nc6\n",
        ],
    ),
    "c.gbnf": (
        [
            "",
            "int main(){}",
            "int main(){return 0;}",
            "int f(int x){int y = x*2;return y;}",
            "int main(){while(i<10){i = i+1;}return 0;}",
            "int main(){// hi\nreturn 0;}",
            "float g(){/* c */return 1;}",
            "char h(){if(a==b){x = 1;}else{x = 2;}}int k(){}",
            "int m(){for(int i = 0; i<n; i = i+1){print (i);}}",  # a call needs ws before "("
        ],
        [
            "int main() {}",
            "int main(){return 0}",
            "intmain(){}",
            "main(){}",
            "int main(){",
            "int 1f(){}",
            "int main(){print(i);}",
        ],
    ),
    "english.gbnf": (
        [
            "Hello, world!",
            "It's 5 o'clock.\nBye",
            "a-b [c] {d} ~e~ \\f",
            "x\ty",
            "^_^ `q` ]",
        ],
        [
            "",
            "hello  world",
            " hello",
            "héllo",
            "hello\n",
        ],
    ),
    "japanese.gbnf": (
        [
            "こんにちは",
            "日本語です。",
            "カタカナ ひらがな\n漢字",
            "「東京」、",
        ],
        [
            "",
            "hello",
            "こんにちは!",
            "日本 ",
            "한국어",
            "日本  語",
        ],
    ),
}


CASES = [(name, s, True) for name, (yes, _) in SAMPLES.items() for s in yes] + [
    (name, s, False) for name, (_, no) in SAMPLES.items() for s in no
]


@pytest.mark.parametrize(
    "name, sample, expected",
    CASES,
    ids=[f"{n}-{'ok' if e else 'bad'}-{i}" for i, (n, _, e) in enumerate(CASES)],
)
def test_sample(name: str, sample: str, expected: bool) -> None:
    g = grammar(name)
    assert g.accepts(sample) is expected, (name, sample)
    if expected:
        # Every prefix of an accepted sample is a live prefix.
        data = sample.encode("utf-8")
        for i in range(len(data)):
            assert g.accepts_prefix(data[:i]), (name, data[:i])


def test_samples_cover_every_grammar_with_obvious_inputs() -> None:
    assert set(SAMPLES) == EXPECTED_FILES


def test_invalid_samples_report_a_position() -> None:
    g = grammar("chess.gbnf")
    r = g.check("1. e4 e5\n2. Nf3 Nc6\n3. Bb9 a6\n")
    assert (r.status, r.line, r.column) == ("rejected", 3, 6)
    r = g.check("1. e4 e5\n")
    assert r.status == "prefix"
    g = grammar("json.gbnf")
    r = g.check('{\n  "a": 1,\n  "b": tru e\n}')
    assert (r.status, r.line, r.column) == ("rejected", 3, 11)


def test_round_tripped_grammars_accept_the_same_samples() -> None:
    for name, (yes, no) in SAMPLES.items():
        g = grammar(name)
        g2 = xgram.Grammar.from_ebnf(str(g))
        for s in yes + no:
            assert g2.accepts(s) == g.accepts(s), (name, s)


def test_union_of_llama_cpp_grammars() -> None:
    u = xgram.Grammar.union(grammar("json.gbnf"), grammar("chess.gbnf"), grammar("list.gbnf"))
    assert u.accepts('{"a": 1}')
    assert u.accepts("1. e4 e5\n2. Nf3 Nc6\n")
    assert u.accepts("- a\n")
    assert not u.accepts("[\n1]")
