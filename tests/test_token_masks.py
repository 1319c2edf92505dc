"""Token masks are exact: the bitmask allows a token iff ``accept_token`` accepts it.

The reference for one step is brute force: for every token id ``t``,
``ok = m.accept_token(t)`` and, if ok, ``m.rollback(1)``. It is compared with
``fill_next_token_bitmask`` in both directions:

* on a small synthetic vocabulary (single bytes, multi-char pieces, pieces that
  cross grammar boundaries, UTF-8 characters and partial UTF-8 bytes), at every
  step of every walk, over the whole vocabulary;
* on real vocabularies (byte-level BPE ``llama3``, SentencePiece byte-fallback
  ``mistral-7b-v0.1``, and a RAW vocabulary built from llama3's tiktoken rank
  file) over the whole vocabulary on a few steps of each walk, and on a random
  sample of allowed and disallowed ids (plus the token actually taken) on every
  step.

Walks pick uniformly among allowed tokens with a seeded RNG until a stop token
is taken or a step limit; the produced text must then be accepted by the
grammar. Walks that follow real text (a document tokenized by the real
tokenizer) check that each next real token is allowed.

Real tokenizers live in ``../shared/tokenizers`` (relative to the repo root);
without it those cases skip (tests/conftest.py prints how many).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set

import numpy as np
import pytest

import xgram
from xgram.json_schema import json_schema_to_ebnf

REPO = Path(__file__).resolve().parent.parent
GRAMMARS = REPO / "grammars"
EXAMPLES = GRAMMARS / "examples"
SHARED_TOKENIZERS = Path(
    os.environ.get("XGRAM_SHARED_TOKENIZERS", REPO.parent / "shared" / "tokenizers")
)
SHARED_SKIP_REASON = (
    f"real-tokenizer mask test skipped: ../shared/tokenizers not found ({SHARED_TOKENIZERS})"
)

# --------------------------------------------------------------------------
# Grammars
# --------------------------------------------------------------------------

INLINE_GRAMMARS: Dict[str, str] = {
    "bounded_string": r'root ::= "\"" [^"\\]{0,40} "\""',
    "fixed_keys_object": "\n".join(
        [
            r'root ::= "{" ws "\"name\"" ws ":" ws str ws "," ws "\"age\"" ws ":" ws num ws ","'
            r' ws "\"tags\"" ws ":" ws "[" ws ( str ( ws "," ws str )* )? ws "]" ws "}"',
            r'str ::= "\"" [a-zA-Z0-9 ]* "\""',
            r'num ::= "0" | [1-9] [0-9]{0,5}',
            r"ws ::= [ \n]{0,3}",
        ]
    ),
    "left_recursive_arith": "\n".join(
        [
            "root ::= expr",
            'expr ::= expr "+" term | expr "-" term | term',
            'term ::= term "*" factor | factor',
            'factor ::= [0-9]+ | "(" expr ")"',
        ]
    ),
    "nested_lists": "\n".join(
        [
            "root ::= list",
            'list ::= "[" ( elem ( "," " "? elem )* )? "]"',
            'elem ::= list | [0-9]+ | "\\"" [a-z]* "\\""',
        ]
    ),
    "lookahead_brief": 'root ::= item ("," item)*\nitem ::= [a-z]+ (= [,] | "")',
    "lookahead": "\n".join(
        [
            'root ::= item ( "," item )* ";"',
            "item ::= word | num",
            "word ::= [a-z]+ (= [,;])",
            'num ::= [0-9]+ (= ",")',
        ]
    ),
    "unicode_greek": 'root ::= [α-ω]+ ( " " [α-ω]+ )*',
    "non_ascii": r"root ::= [^\x00-\x7F]{1,8}",
    "overlapping_words": 'root ::= ( "the" | "then" | "there" | "he" | "here" | "ere" | " " | "\\",\\"" | "\\"}" )+ "."',
    "counted_repetition": 'root ::= [0-9]{3,5} "-" [a-z]{0,100}',
    # One rule under many callers, some through counted repetitions near their
    # bounds: the tokens crossing its end are decided per chain of callers.
    "shared_contexts": "\n".join(
        [
            'root ::= "[" item ("," item){0,20} "]" | "{" key ":" str ("," key ":" num){0,2} "}" | "(" word{2,4} ")"',
            'item ::= str | num | "[" item "]"',
            'str ::= "\\"" [a-z]{1,18} "\\""',
            'key ::= "\\"" [a-z]{1,20} "\\""',
            "num ::= [0-9]{1,4}",
            'word ::= " " | str',
        ]
    ),
    # Calls made from several places at one position: the callee's stack node
    # has several parents, each with its own continuation.
    "ambiguous_contexts": "\n".join(
        [
            'root ::= open | shout | "(" body ")" body ";"',
            'open ::= "<" body "}" | "{" open "}"',
            'shout ::= "<" body "," | "{" shout "}"',
            "body ::= item{1,20}",
            'item ::= "\\"" [a-z]{0,17} "\\"" | [0-9]+ | "[" body "]"',
        ]
    ),
}
# Grammars the JSON Schema front-end writes: key tries with shared tails, bounded
# strings (counted characters with every escape), enums, formats, patterns.
SCHEMA_FOR_MASKS = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "kind": {"enum": ["alpha", "beta", 'al"pha']},
        "date": {"type": "string", "format": "date"},
        "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]+$"},
        "size": {"type": "integer", "minimum": -5, "maximum": 300},
        "link": {"type": "string", "format": "uri"},
        "ident": {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"},
    },
    "required": ["name"],
}
INLINE_GRAMMARS["json_schema_object"] = json_schema_to_ebnf(
    SCHEMA_FOR_MASKS, strict_mode=False
).ebnf
INLINE_GRAMMARS["json_schema_array"] = json_schema_to_ebnf(
    {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 5}, "maxItems": 4}
).ebnf
FILE_GRAMMARS = ["json", "arithmetic", "chess", "minilang", "list"]
ALL_GRAMMARS = ["builtin_json"] + [f"file:{n}" for n in FILE_GRAMMARS] + sorted(INLINE_GRAMMARS)


@cache
def grammar_source(name: str):
    if name == "builtin_json":
        return xgram.Grammar.builtin_json_grammar()
    if name.startswith("file:"):
        return (GRAMMARS / f"{name[5:]}.ebnf").read_text(encoding="utf-8")
    return INLINE_GRAMMARS.get(name, name)  # otherwise: the EBNF text itself


# --------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------


@dataclass
class Vocab:
    name: str
    info: xgram.TokenizerInfo
    tokenizer: object = None
    compilers: Dict[bool, xgram.GrammarCompiler] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.n = self.info.vocab_size
        self.dv: List[bytes] = self.info.decoded_vocab
        self.stops = np.array(self.info.stop_token_ids, dtype=np.int64)
        self.stop_set: Set[int] = set(self.info.stop_token_ids)
        # Ids that must never be allowed: special (non-stop) ids, padding, empty tokens.
        self.never = np.array(
            sorted(set(self.info.special_token_ids) - self.stop_set), dtype=np.int64
        )

    def compile(self, name: str, precompute: bool = False) -> xgram.CompiledGrammar:
        if precompute not in self.compilers:
            self.compilers[precompute] = xgram.GrammarCompiler(self.info, precompute=precompute)
        return self.compilers[precompute].compile_grammar(grammar_source(name))


def synthetic_vocab_tokens() -> List[bytes]:
    toks: List[bytes] = [bytes([i]) for i in range(256)]
    pieces = [
        # JSON structure and crossing boundaries
        '{"',
        '"}',
        '",',
        '","',
        '":',
        '": ',
        '", "',
        '"]',
        '["',
        "[[",
        "]]",
        "],",
        "},",
        "{}",
        "[]",
        ", ",
        ": ",
        "\n  ",
        "\n    ",
        "\n",
        "  ",
        "    ",
        "\t",
        "\\n",
        '\\"',
        "\\\\",
        "\\u00",
        "\\u",
        "true",
        "false",
        "null",
        "tru",
        "fal",
        "nu",
        "ll",
        "se",
        "ue",
        '"name"',
        "name",
        '"age"',
        "age",
        '"tags"',
        "tags",
        '"name": "',
        'a"',
        'x",',
        "1,",
        "1, 2",
        # several characters, then the end of their rule and more (crossing tokens)
        'ab"',
        'abc"',
        'he",',
        'the"]',
        'ere"}',
        "12,",
        "9]",
        '"x"',
        'abcd"',
        'ab":',
        # digits runs and numbers
        "00",
        "000",
        "12",
        "123",
        "2024",
        "99",
        "12345",
        "123456",
        "0.",
        ".5",
        "1e",
        "e+",
        "E-",
        "-1",
        "-0",
        # words and overlapping literals
        "the",
        "then",
        "there",
        "he",
        "here",
        "ere",
        "her",
        " th",
        "th",
        "en",
        "re",
        "ab",
        "abc",
        "ab",
        "abc-",
        "123-",
        "-abc",
        "hello",
        " world",
        "a,b",
        ",a",
        ";",
        "a;",
        # arithmetic / minilang
        "(-",
        ")*",
        " + ",
        " * ",
        "((",
        "))",
        "1+2",
        "fn ",
        "let ",
        " = ",
        ";\n",
        "();",
        "if",
        "else",
        "while",
        "return",
        "//",
        "/*",
        "*/",
        "==",
        "!=",
        "&&",
        "||",
        "print(",
        # chess
        "O-O",
        "O-O-O",
        "-O",
        "Nf3",
        "e4",
        "e5",
        "1.",
        "2.",
        " 1-0",
        "1-0",
        "0-1",
        "1/2-1/2",
        "x",
        "exd5",
        "=Q",
        '[White "',
        '"]\n',
        " {",
        "}",
        # list
        "- ",
        "  - ",
        "* ",
        "[ ] ",
        "[x] ",
        "[X]",
        "- [",
        # UTF-8 characters
        "α",
        "β",
        "γ",
        "ω",
        "αβ",
        "γδε",
        " α",
        "é",
        "ü",
        "日本",
        "語",
        "😀",
        '"α"',
        "ωa",
    ]
    toks += [p.encode("utf-8") for p in pieces]
    # partial UTF-8 pieces
    toks += [
        b"\xce",
        b"\xce\xb1\xce",
        b"\xb1\xce",
        b"\xf0\x9f",
        b"\x98\x80",
        b"\x9f\x98\x80",
        b"\xf0\x9f\x98",
        b"a\xce",
        b"\xe6\x97",
        b"\xa5\xe6\x9c\xac",
        b"\xcf\x89\xce\xb1",
    ]
    return toks


@cache
def synthetic_vocab(padding: int = 0) -> Vocab:
    toks = synthetic_vocab_tokens()
    special_id = len(toks)
    toks.append(b"a")  # a special token whose bytes are valid text: never allowed
    toks.append(b"")  # an empty token: never allowed
    stop_id = len(toks)
    toks.append(b"</s>")
    stop2 = len(toks)
    toks.append(b"<|eot|>")
    info = xgram.TokenizerInfo(
        toks,
        xgram.VocabType.RAW,
        vocab_size=len(toks) + padding,
        stop_token_ids=[stop_id, stop2],
        special_token_ids=[special_id],
    )
    return Vocab(f"synthetic{'+pad' if padding else ''}", info)


def _shared_file(*parts: str) -> Path:
    path = SHARED_TOKENIZERS.joinpath(*parts)
    if not SHARED_TOKENIZERS.is_dir():
        pytest.skip(SHARED_SKIP_REASON)
    if not path.is_file():
        pytest.skip(f"real-tokenizer mask test skipped: {path} not found")
    return path


@cache
def hf_tokenizer(name: str):
    tokenizers = pytest.importorskip("tokenizers")
    return tokenizers.Tokenizer.from_file(str(_shared_file(name, "tokenizer.json")))


@cache
def real_vocab(name: str) -> Vocab:
    if name == "llama3":
        tok = hf_tokenizer("llama3")
        info = xgram.TokenizerInfo.from_huggingface(tok)
        assert info.vocab_type == xgram.VocabType.BYTE_LEVEL
        assert info.vocab_size >= 128_000
        return Vocab(name, info, tok)
    if name == "mistral":
        tok = hf_tokenizer("mistral-7b-v0.1")
        info = xgram.TokenizerInfo.from_huggingface(tok)
        assert info.vocab_type == xgram.VocabType.BYTE_FALLBACK
        return Vocab(name, info, tok)
    if name == "raw":
        path = _shared_file("llama3", "tokenizer.model")
        toks: List[bytes] = []
        for line in path.read_text(encoding="ascii").splitlines():
            if not line.strip():
                continue
            b64, rank = line.split()
            assert int(rank) == len(toks)
            toks.append(base64.b64decode(b64))
        stop_ids = [len(toks), len(toks) + 1]
        special_id = len(toks) + 2
        toks += [b"<|stop|>", b"<|eot|>", b"<|special|>"]
        info = xgram.TokenizerInfo(
            toks, xgram.VocabType.RAW, stop_token_ids=stop_ids, special_token_ids=[special_id]
        )
        # llama3's HF ids equal the tiktoken ranks, so its tokenizer encodes for this vocab too.
        tok = hf_tokenizer("llama3")
        return Vocab(name, info, tok)
    raise KeyError(name)


REAL_VOCABS = ["llama3", "mistral", "raw"]

# --------------------------------------------------------------------------
# Checking machinery
# --------------------------------------------------------------------------


def unpack(bm: np.ndarray, n: int) -> np.ndarray:
    return np.unpackbits(bm.view(np.uint8), bitorder="little")[:n].astype(bool)


def fill(m: xgram.GrammarMatcher, n: int) -> np.ndarray:
    bm = np.zeros(xgram.get_bitmask_shape(1, n), dtype=np.int32)
    m.fill_next_token_bitmask(bm)
    return bm


def brute_force(m: xgram.GrammarMatcher, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    accept, rollback = m.accept_token, m.rollback
    for t in range(n):
        if accept(t):
            out[t] = True
            rollback(1)
    return out


class Mismatch(AssertionError):
    pass


def _report(
    vocab: Vocab,
    where: str,
    step: int,
    text: bytes,
    rows: Sequence[tuple],
    taken: Sequence[int] = (),
) -> str:
    lines = [
        f"mask mismatch ({len(rows)} token(s)) in {where}, vocab={vocab.name}, step={step}",
        f"  text so far ({len(text)} bytes): {text[-300:]!r}",
    ]
    if taken:
        lines.append(f"  tokens so far: {[(int(t), vocab.dv[t]) for t in taken[-40:]]}")
    for t, mask_says, accept_says in rows[:12]:
        tb = vocab.dv[t] if t < len(vocab.dv) else b"<padding>"
        lines.append(f"  token {t} {tb!r}: mask allows={mask_says} accept_token={accept_says}")
    return "\n".join(lines)


def check_step(
    vocab: Vocab,
    m: xgram.GrammarMatcher,
    grammar: xgram.Grammar,
    mask: np.ndarray,
    text: bytes,
    *,
    where: str,
    step: int,
    full: bool,
    sample: int,
    rng: np.random.Generator,
    extra: Sequence[int] = (),
    jump_forward: bool = True,
    taken: Sequence[int] = (),
) -> None:
    """All per-step invariants; ``full`` runs the whole-vocabulary brute force."""
    completed = m.is_completed()
    ctx = f"{where}, vocab={vocab.name}, step={step}, text={text[-200:]!r}"
    assert not m.is_terminated(), ctx
    assert grammar.accepts_prefix(text), (
        f"matcher accepted a text the grammar rejects as prefix: {ctx}"
    )
    assert completed == grammar.accepts(text), (
        f"is_completed()={completed} but grammar.accepts(text)={not completed}: {ctx}"
    )
    if vocab.stops.size:
        stop_mask = mask[vocab.stops]
        assert (stop_mask == completed).all(), (
            f"stop tokens {vocab.stops.tolist()} allowed={stop_mask.tolist()} but completed={completed}: {ctx}"
        )
    if vocab.never.size:
        bad = vocab.never[mask[vocab.never]]
        assert bad.size == 0, f"special/padding/empty ids allowed: {bad[:10].tolist()}: {ctx}"
    if full:
        ref = brute_force(m, vocab.n)
        diff = np.flatnonzero(ref != mask)
        if diff.size:
            rows = [(int(t), bool(mask[t]), bool(ref[t])) for t in diff]
            raise Mismatch(_report(vocab, where, step, text, rows, taken))
    else:
        allowed = np.flatnonzero(mask)
        disallowed = np.flatnonzero(~mask)
        ids = list(extra)
        if allowed.size:
            ids += rng.choice(allowed, size=min(sample, allowed.size), replace=False).tolist()
        if disallowed.size:
            ids += rng.choice(disallowed, size=min(sample, disallowed.size), replace=False).tolist()
        rows = []
        for t in ids:
            ok = m.accept_token(int(t))
            if ok:
                m.rollback(1)
            if ok != bool(mask[t]):
                rows.append((int(t), bool(mask[t]), ok))
        if rows:
            raise Mismatch(_report(vocab, where, step, text, rows, taken))
    if jump_forward:
        s = m.find_jump_forward_string()
        if s and "\ufffd" not in s:
            sb = s.encode("utf-8")
            allowed = np.flatnonzero(mask)
            if allowed.size > 2 * max(sample, 1) and not full:
                allowed = rng.choice(allowed, size=sample, replace=False)
            for t in allowed:
                if int(t) in vocab.stop_set:
                    continue
                tb = vocab.dv[t]
                assert tb.startswith(sb) or sb.startswith(tb), (
                    f"find_jump_forward_string()={s!r} contradicts allowed token {int(t)} {tb!r}: {ctx}"
                )


@dataclass
class WalkResult:
    steps: int
    terminated: bool
    text: bytes


def random_walk(
    vocab: Vocab,
    grammar_name: str,
    *,
    seed: int,
    max_steps: int,
    full_steps: Optional[Set[int]] = None,
    sample: int = 2000,
    stop_prob: Optional[float] = None,
    twin: Optional[xgram.CompiledGrammar] = None,
    rollback_every: int = 5,
) -> WalkResult:
    """A seeded random walk; ``full_steps=None`` means brute force on every step."""
    cg = vocab.compile(grammar_name)
    g = cg.grammar
    rng = np.random.default_rng(seed)
    check_rng = np.random.default_rng(seed + 10_000)
    where = f"random walk grammar={grammar_name} seed={seed}"
    m = xgram.GrammarMatcher(cg)
    m_twin = xgram.GrammarMatcher(twin) if twin is not None else None
    text = b""
    taken: List[int] = []
    history: List[np.ndarray] = []
    full_done_completed = False
    for step in range(max_steps):
        bm = fill(m, vocab.n)
        mask = unpack(bm, vocab.n)
        if m_twin is not None:
            bm2 = fill(m_twin, vocab.n)
            assert np.array_equal(bm, bm2), (
                f"precomputed compiler's mask differs: {where} step={step}"
            )
        completed = m.is_completed()
        full = full_steps is None or step in full_steps
        if completed and not full_done_completed and full_steps is not None:
            full = True  # brute force the first completed state too
        if completed and full:
            full_done_completed = True
        allowed = np.flatnonzero(mask)
        assert allowed.size > 0, f"empty mask before termination: {where} step={step} text={text!r}"
        nonstop = allowed[~np.isin(allowed, vocab.stops)] if vocab.stops.size else allowed
        if nonstop.size == 0 or (stop_prob is not None and completed and rng.random() < stop_prob):
            choice = int(vocab.stops[0] if nonstop.size == 0 else rng.choice(vocab.stops))
        else:
            choice = int(rng.choice(allowed))
        check_step(
            vocab,
            m,
            g,
            mask,
            text,
            where=where,
            step=step,
            full=full,
            sample=sample,
            rng=check_rng,
            extra=[choice],
            taken=taken,
        )
        if choice in vocab.stop_set:
            assert m.accept_token(choice), f"stop token {choice} rejected: {where} step={step}"
            assert m.is_terminated()
            assert g.accepts(text), (
                f"terminated text rejected by grammar.accepts: {where} text={text!r}"
            )
            if m_twin is not None:
                assert m_twin.accept_token(choice)
            return WalkResult(step + 1, True, text)
        assert m.accept_token(choice), (
            f"token taken from the mask rejected: {where} step={step} token={choice} "
            f"{vocab.dv[choice]!r} text={text!r}"
        )
        if m_twin is not None:
            assert m_twin.accept_token(choice)
        text += vocab.dv[choice]
        taken.append(choice)
        history.append(bm)
        # rollback round trip: the mask after rolling back k tokens is the one seen k steps ago
        if rollback_every and len(taken) >= 2 and step % rollback_every == rollback_every - 1:
            k = int(rng.integers(1, min(4, len(taken)) + 1))
            m.rollback(k)
            again = fill(m, vocab.n)
            assert np.array_equal(again, history[-k]), (
                f"mask after rollback({k}) differs from the mask {k} steps ago: {where} step={step}"
            )
            for t in taken[-k:]:
                assert m.accept_token(t), f"re-accepting token {t} after rollback failed: {where}"
    # step limit: the text must still be a valid prefix, and complete iff the matcher says so
    assert g.accepts_prefix(text)
    assert m.is_completed() == g.accepts(text)
    return WalkResult(max_steps, False, text)


def follow_text(
    vocab: Vocab,
    grammar_name: str,
    ids: Sequence[int],
    text_bytes: bytes,
    *,
    full_steps: Set[int],
    sample: int,
) -> None:
    """Feed real token ids; every next real token must be allowed by the mask."""
    cg = vocab.compile(grammar_name)
    g = cg.grammar
    m = xgram.GrammarMatcher(cg)
    rng = np.random.default_rng(len(ids))
    where = f"real-text walk grammar={grammar_name}"
    text = b""
    for step, t in enumerate(ids):
        mask = unpack(fill(m, vocab.n), vocab.n)
        if not mask[t]:
            raise Mismatch(
                _report(
                    vocab,
                    where + " (real next token masked out)",
                    step,
                    text,
                    [(int(t), False, m.accept_token(int(t)))],
                    ids[:step],
                )
            )
        check_step(
            vocab,
            m,
            g,
            mask,
            text,
            where=where,
            step=step,
            full=step in full_steps,
            sample=sample,
            rng=rng,
            extra=[t],
            taken=ids[:step],
        )
        assert m.accept_token(int(t))
        text += vocab.dv[t]
    assert text == text_bytes
    mask = unpack(fill(m, vocab.n), vocab.n)
    check_step(
        vocab,
        m,
        g,
        mask,
        text,
        where=where,
        step=len(ids),
        full=len(ids) in full_steps,
        sample=sample,
        rng=rng,
    )
    assert m.is_completed(), f"complete document not completed: {where}"
    if vocab.stops.size:
        assert m.accept_token(int(vocab.stops[0]))
        assert m.is_terminated()


# --------------------------------------------------------------------------
# Synthetic vocabulary: brute force on every step
# --------------------------------------------------------------------------


def test_synthetic_vocab_shape():
    v = synthetic_vocab()
    assert v.info.vocab_type == xgram.VocabType.RAW
    assert v.n == len(v.dv)
    assert all(bytes([i]) == v.dv[i] for i in range(256))
    assert len(v.stops) == 2 and v.never.size >= 2


@pytest.mark.parametrize("grammar_name", ALL_GRAMMARS)
def test_synthetic_walks_exact_every_step(grammar_name):
    v = synthetic_vocab()
    twin = v.compile(grammar_name, precompute=True)
    terminated = 0
    for seed in range(4):
        res = random_walk(
            v,
            grammar_name,
            seed=seed,
            max_steps=60,
            full_steps=None,
            stop_prob=None if seed < 2 else 0.5,
            twin=twin if seed == 0 else None,
        )
        terminated += res.terminated
    # stop-biased walks of grammars that can end quickly should terminate
    if grammar_name in ("bounded_string", "counted_repetition", "unicode_greek", "non_ascii"):
        assert terminated >= 1


@pytest.mark.parametrize("grammar_name", ["builtin_json", "file:json", "nested_lists", "lookahead"])
def test_synthetic_walks_with_padding(grammar_name):
    """Padding ids (vocab_size larger than the vocabulary) are never allowed."""
    v = synthetic_vocab(padding=45)
    assert v.n == len(synthetic_vocab().dv) + 45
    pad = np.arange(len(synthetic_vocab().dv), v.n)
    assert set(pad.tolist()) <= set(v.never.tolist())
    for seed in range(2):
        random_walk(v, grammar_name, seed=seed, max_steps=30, full_steps=None, stop_prob=0.5)
    m = xgram.GrammarMatcher(v.compile(grammar_name))
    for t in pad:
        assert m.accept_token(int(t)) is False


# --------------------------------------------------------------------------
# Real vocabularies
# --------------------------------------------------------------------------


@pytest.fixture(scope="module", params=REAL_VOCABS)
def real(request) -> Vocab:
    return real_vocab(request.param)


def test_real_vocab_types(real):
    if real.name == "llama3":
        assert real.info.vocab_type == xgram.VocabType.BYTE_LEVEL
        assert real.dv[real.tokenizer.token_to_id("Ġthe")] == b" the"
    elif real.name == "mistral":
        assert real.info.vocab_type == xgram.VocabType.BYTE_FALLBACK
        assert real.dv[real.tokenizer.token_to_id("<0x41>")] == b"A"
        assert real.dv[real.tokenizer.token_to_id("▁the")] == b" the"
    else:
        assert real.info.vocab_type == xgram.VocabType.RAW
        assert real.dv[:128000] == real_vocab("llama3").dv[:128000]
    assert real.stops.size >= 1


@pytest.mark.parametrize("grammar_name", ALL_GRAMMARS)
def test_real_vocab_random_walk(real, grammar_name):
    seed = ALL_GRAMMARS.index(grammar_name)
    random_walk(
        real,
        grammar_name,
        seed=seed,
        max_steps=30,
        full_steps={0, 4 + seed % 7, 13 + seed % 11},
        sample=1500,
        stop_prob=0.5,
    )


UNICODE_JSON = {
    "name": "Zoë Ångström",
    "greeting": "héllo wörld – 你好，世界 😀",
    "ids": [1, -2, 3.25, 4e10, 0],
    "nested": {"ok": True, "none": None, "empty": [], "obj": {}},
    "escapes": 'tab\tquote"back\\slash\u0001',
    "greek": "αβγ ω",
}


def real_documents() -> List[tuple]:
    docs = [
        ("builtin_json", json.dumps(UNICODE_JSON, ensure_ascii=False, indent=2)),
        ("file:json", json.dumps(UNICODE_JSON, ensure_ascii=False)),
        ("file:json", (EXAMPLES / "json" / "valid_nested.txt").read_text(encoding="utf-8")),
        (
            "file:arithmetic",
            (EXAMPLES / "arithmetic" / "valid_multiline.txt").read_text(encoding="utf-8"),
        ),
        ("file:chess", (EXAMPLES / "chess" / "valid_opera_game.txt").read_text(encoding="utf-8")),
        ("file:minilang", (EXAMPLES / "minilang" / "valid_gcd.txt").read_text(encoding="utf-8")),
        ("file:list", (EXAMPLES / "list" / "valid_nested.txt").read_text(encoding="utf-8")),
        ("unicode_greek", "αβγ δεζ ηθικλμνξοπρστυφχψω"),
        ("counted_repetition", "2024-abcdefghijklmnopqrstuvwxyz"),
        (
            "json_schema_object",
            json.dumps(
                {
                    "name": 'Zoë "Å" 😀',
                    "kind": 'al"pha',
                    "date": "2024-02-29",
                    "code": "AB-12",
                    "size": 42,
                    "link": "https://example.com/api/v1/user_identities/37442?q=a%20b#top",
                    "ident": "export_files_2",
                    "extra": {"x": [1, "y"]},
                },
                ensure_ascii=False,
            ),
        ),
        ("json_schema_array", '["a", "héllo", "\\n\\"", "😀😀"]'),
    ]
    return docs


@pytest.mark.parametrize("doc_index", range(len(real_documents())))
def test_real_vocab_follows_real_text(real, doc_index):
    grammar_name, text = real_documents()[doc_index]
    g = real.compile(grammar_name).grammar
    ids = real.tokenizer.encode(text, add_special_tokens=False).ids
    raw = text.encode("utf-8")
    decoded = b"".join(real.dv[t] for t in ids)
    if real.name == "mistral" and decoded == b" " + raw:
        # SentencePiece prepends a space ("▁") to the text.
        raw = decoded
        if not g.accepts(raw):
            pytest.skip(f"{grammar_name} rejects the leading space SentencePiece adds")
    assert decoded == raw, "decoded_vocab concatenation differs from the tokenized text"
    assert g.accepts(raw), "test document is not in the grammar's language"
    n = len(ids)
    follow_text(real, grammar_name, ids, raw, full_steps={0, n // 2, n}, sample=300)


@pytest.mark.parametrize(
    "schema, value",
    [
        (
            {"type": "string", "format": "uri"},
            "https://example.com/api/v1/user_identities/37442?q=a%20b#top",
        ),
        ({"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"}, "export_files_2_of_many"),
        ({"type": "string", "format": "hostname"}, "mail.example-host.co.uk"),
        # Unanchored patterns: the "no match yet" state loops on all but a few
        # characters, multi-byte ones included (by lead byte).
        ({"type": "string", "pattern": "[0-9]{4}-[0-9]{2}"}, "née à Zürich 2022-01 ✓"),
        ({"type": "string", "pattern": "^.*.xsl$"}, "stylé ✓ sheet.xsl"),
        # A class that excludes one multi-byte character: its lead byte's
        # subtrees are walked, the others accepted whole.
        ({"type": "string", "pattern": "^[^é]*$"}, "naïve cafe? no: ✓ über"),
        # Counted one-character bodies complete their iterations in DFA mode.
        ({"type": "string", "minLength": 2, "maxLength": 9}, "żółw ✓ ab"),
        # Keys that must differ from a property name: a lead byte read in the
        # trie of names ends its characters in the loop of other keys, so its
        # subtree is one plain-text region.
        (
            {
                "type": "object",
                "properties": {"maxUnavailable": {"type": "integer"}, "größe": {"type": "integer"}},
                "additionalProperties": {"type": "string"},
            },
            {"maxUnavailable": 3, "größe": 4, "grüße": "ü", "mäx ✓": "ü", "maxUnavailablé": "€"},
        ),
        # Tokens leaving a string at a quote (`abc",`) are decided once per
        # distinct suffix; an escaped quote is not such a quote.
        (
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "meta": {"type": "object", "properties": {"note": {"type": "string"}}},
                    "size": {"type": "integer"},
                },
            },
            {"name": 'say "hi", ok', "tags": ["a", "b c"], "meta": {"note": 'x"}'}, "size": 2},
        ),
        # Only one character of a lead byte enters the loop: no region there.
        ({"type": "string", "pattern": "^(é[\\s\\S]*|[a-z]+)$"}, "été ✓ ok"),
    ],
)
def test_llama3_free_text_formats_exact_every_step(schema, value):
    """Format and pattern loops (accepted by whole trie subtrees) against brute force at every step."""
    v = real_vocab("llama3")
    name = json_schema_to_ebnf(schema).ebnf
    text = json.dumps(value, ensure_ascii=False)
    ids = v.tokenizer.encode(text, add_special_tokens=False).ids
    follow_text(v, name, ids, text.encode(), full_steps=set(range(len(ids) + 1)), sample=0)


def test_real_vocab_special_tokens_never_allowed(real):
    """Every special (non-stop) id stays out of the mask, even in states accepting almost anything."""
    assert real.never.size > 0
    for name, prefix in [("bounded_string", '"'), ("builtin_json", '{"k": "'), ("non_ascii", "")]:
        m = xgram.GrammarMatcher(real.compile(name))
        assert m.accept_string(prefix)
        mask = unpack(fill(m, real.n), real.n)
        assert mask.sum() > real.n // 10
        assert not mask[real.never].any()
        for t in real.never[:50]:
            assert m.accept_token(int(t)) is False


def test_real_vocab_padding_masked():
    tok = hf_tokenizer("mistral-7b-v0.1")
    info = xgram.TokenizerInfo.from_huggingface(tok, vocab_size=32_000 + 77)
    assert info.vocab_size == 32_077
    v = Vocab("mistral+pad", info, tok)
    pad = np.arange(32_000, 32_077)
    assert set(pad.tolist()) <= set(v.never.tolist())
    random_walk(
        v, "builtin_json", seed=3, max_steps=15, full_steps={0, 7}, sample=500, stop_prob=0.5
    )


# --------------------------------------------------------------------------
# Matcher API behaviour
# --------------------------------------------------------------------------


def tid(v: Vocab, piece: bytes) -> int:
    return v.dv.index(piece)


def test_stop_token_allowed_iff_completed():
    v = synthetic_vocab()
    m = xgram.GrammarMatcher(v.compile("counted_repetition"))
    for ch in b"12":
        assert m.accept_token(ch)
        assert not unpack(fill(m, v.n), v.n)[v.stops].any()
        assert not m.accept_token(int(v.stops[0]))
    assert m.accept_token(ord("3"))
    assert not m.is_completed()
    assert m.accept_token(ord("-"))
    assert m.is_completed()
    assert unpack(fill(m, v.n), v.n)[v.stops].all()
    assert m.accept_token(int(v.stops[1]))
    assert m.is_terminated()
    m.rollback(1)
    assert not m.is_terminated() and m.is_completed()


def test_override_stop_tokens():
    v = synthetic_vocab()
    cg = v.compile("counted_repetition")
    new_stop = tid(v, b"hello")
    m = xgram.GrammarMatcher(cg, override_stop_tokens=[new_stop])
    assert m.stop_token_ids == [new_stop]
    assert xgram.GrammarMatcher(cg, override_stop_tokens=new_stop).stop_token_ids == [new_stop]
    mask = unpack(fill(m, v.n), v.n)
    assert not mask[new_stop]
    assert m.accept_string("123-")
    mask = unpack(fill(m, v.n), v.n)
    assert mask[new_stop]
    assert not mask[v.stops].any(), "the tokenizer's stop tokens are replaced"
    assert not m.accept_token(int(v.stops[0]))
    # the brute force agrees with the mask under the override too
    assert np.array_equal(brute_force(m, v.n), mask)
    assert m.accept_token(new_stop)
    assert m.is_terminated()
    # a non-completed state never allows the override stop token
    m.reset()
    assert m.accept_string("12")
    assert not unpack(fill(m, v.n), v.n)[new_stop]


def test_terminate_without_stop_token():
    v = synthetic_vocab()
    m = xgram.GrammarMatcher(v.compile('root ::= "ab" "c"?'), terminate_without_stop_token=True)
    assert m.accept_token(ord("a"))
    assert not m.is_completed() and not m.is_terminated()
    assert not unpack(fill(m, v.n), v.n)[v.stops].any()
    assert m.accept_token(ord("b"))
    assert m.is_completed()
    assert m.is_terminated(), "terminates as soon as the grammar is complete"
    m.rollback(1)
    assert not m.is_terminated()
    # without the flag, completion alone does not terminate; a stop token does
    m2 = xgram.GrammarMatcher(v.compile('root ::= "ab" "c"?'))
    assert m2.accept_token(tid(v, b"ab"))
    assert m2.is_completed() and not m2.is_terminated()
    assert m2.accept_token(ord("c"))
    assert not m2.is_terminated()
    assert m2.accept_token(int(v.stops[0])) and m2.is_terminated()


def test_out_of_range_and_after_termination_raise():
    v = synthetic_vocab(padding=45)
    m = xgram.GrammarMatcher(v.compile("bounded_string"))
    for bad in (v.n, v.n + 1, -1, 10**9):
        with pytest.raises(xgram.UsageError):
            m.accept_token(bad)
    assert issubclass(xgram.UsageError, ValueError)
    assert m.accept_token(v.n - 1) is False  # last padding id: in range, masked
    assert m.accept_string('"hi"')
    assert m.accept_token(int(v.stops[0]))
    assert m.is_terminated()
    bm = np.zeros(xgram.get_bitmask_shape(1, v.n), dtype=np.int32)
    for call in (
        lambda: m.accept_token(ord("a")),
        lambda: m.accept_token(int(v.stops[0])),
        lambda: m.accept_string("x"),
        lambda: m.fill_next_token_bitmask(bm),
        lambda: m.find_jump_forward_string(),
    ):
        with pytest.raises(xgram.UsageError):
            call()
    m.reset()
    assert not m.is_terminated()
    assert m.accept_token(ord('"'))


def test_max_rollback_tokens_window():
    v = synthetic_vocab()
    cg = v.compile("counted_repetition")
    m = xgram.GrammarMatcher(cg, max_rollback_tokens=3)
    seq = [ord(c) for c in "1234-ab"]
    masks = []
    for t in seq:
        masks.append(fill(m, v.n))
        assert m.accept_token(t)
    with pytest.raises(xgram.UsageError):
        m.rollback(4)
    # a failed rollback changes nothing
    assert np.array_equal(fill(m, v.n), fill(m.fork(), v.n))
    m.rollback(3)
    assert np.array_equal(fill(m, v.n), masks[-3])
    with pytest.raises(xgram.UsageError):
        m.rollback(1)
    # after new tokens, the window refills up to 3
    for t in seq[-3:]:
        assert m.accept_token(t)
    m.rollback(3)
    assert np.array_equal(fill(m, v.n), masks[-3])
    # unlimited window
    m2 = xgram.GrammarMatcher(cg)
    for t in seq:
        assert m2.accept_token(t)
    m2.rollback(len(seq))
    assert np.array_equal(fill(m2, v.n), masks[0])
    with pytest.raises(xgram.UsageError):
        m2.rollback(1)


def test_fork_independence():
    v = synthetic_vocab()
    m = xgram.GrammarMatcher(v.compile("file:json"))
    assert m.accept_string('{"a": [1, ')
    before = fill(m, v.n)
    f = m.fork()
    assert np.array_equal(fill(f, v.n), before)
    assert f.accept_string('"x"]}')
    assert f.is_completed()
    assert np.array_equal(fill(m, v.n), before), "advancing the fork changed the original"
    assert not m.is_completed()
    assert m.accept_string("2]")
    f_mask = fill(f, v.n)
    assert unpack(f_mask, v.n)[v.stops].all()
    assert f.accept_token(int(v.stops[0])) and f.is_terminated()
    assert not m.is_terminated()
    m.rollback(1)
    assert np.array_equal(fill(m, v.n), before)
    g = m.fork()
    g.reset()
    assert np.array_equal(fill(m, v.n), before), "reset of a fork changed the original"


def test_reset_restores_initial_mask():
    v = synthetic_vocab()
    m = xgram.GrammarMatcher(v.compile("file:chess"))
    initial = fill(m, v.n)
    assert m.accept_string('[White "Morphy"]\n1. e4 e5')
    m.reset()
    assert np.array_equal(fill(m, v.n), initial)


def test_find_jump_forward_string():
    v = synthetic_vocab()
    m = xgram.GrammarMatcher(v.compile('root ::= "{\\"name\\": " [a-z]+'))
    assert m.find_jump_forward_string() == '{"name": '
    assert m.accept_token(tid(v, b'{"'))
    assert m.find_jump_forward_string() == 'name": '
    assert m.accept_string('name": ')
    assert m.find_jump_forward_string() == ""
    m2 = xgram.GrammarMatcher(v.compile("counted_repetition"))
    assert m2.find_jump_forward_string() == ""
    assert m2.accept_string("12345")
    assert m2.find_jump_forward_string() == "-"
    # the matcher is unchanged
    assert m2.accept_token(tid(v, b"-abc"))


# --------------------------------------------------------------------------
# apply_token_bitmask_inplace
# --------------------------------------------------------------------------


def _two_masks(v: Vocab) -> np.ndarray:
    cg = v.compile("file:json")
    m1 = xgram.GrammarMatcher(cg)
    m2 = xgram.GrammarMatcher(cg)
    assert m2.accept_string('{"k": ')
    bm = np.zeros(xgram.get_bitmask_shape(2, v.n), dtype=np.int32)
    m1.fill_next_token_bitmask(bm, 0)
    m2.fill_next_token_bitmask(bm, 1)
    return bm


def _expected(logits: np.ndarray, bm: np.ndarray, n: int, rows=None, cols=None) -> np.ndarray:
    out = logits.copy()
    cols = n if cols is None else cols
    for r in range(logits.shape[0]) if rows is None else rows:
        allowed = np.unpackbits(bm[r].view(np.uint8), bitorder="little")[:cols].astype(bool)
        out[r, :cols][~allowed] = -np.inf
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_apply_bitmask_numpy(dtype):
    v = synthetic_vocab(padding=45)
    n = v.n
    bm = _two_masks(v)
    assert bm[0].any() and not np.array_equal(bm[0], bm[1])
    rng = np.random.default_rng(0)
    base = rng.standard_normal((2, n)).astype(dtype)
    logits = base.copy()
    xgram.apply_token_bitmask_inplace(logits, bm)
    np.testing.assert_array_equal(logits, _expected(base, bm, n))
    assert (
        np.isneginf(logits).sum()
        == (~np.stack([unpack(bm[0].copy(), n), unpack(bm[1].copy(), n)])).sum()
    )
    # indices: only the listed rows
    logits = base.copy()
    xgram.apply_token_bitmask_inplace(logits, bm, indices=[1])
    np.testing.assert_array_equal(logits, _expected(base, bm, n, rows=[1]))
    # vocab_size: columns beyond it untouched
    logits = base.copy()
    xgram.apply_token_bitmask_inplace(logits, bm, vocab_size=100)
    np.testing.assert_array_equal(logits, _expected(base, bm, n, cols=100))
    # 1-D logits with a single-row mask
    one = base[1].copy()
    xgram.apply_token_bitmask_inplace(one, bm[1:2].copy())
    np.testing.assert_array_equal(one, _expected(base[1:2], bm[1:2], n)[0])


@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16"])
def test_apply_bitmask_torch_cpu(dtype_name):
    torch = pytest.importorskip("torch")
    dtype = getattr(torch, dtype_name)
    v = synthetic_vocab(padding=45)
    n = v.n
    bm_np = _two_masks(v)
    bm = torch.from_numpy(bm_np.copy())
    base = torch.randn(2, n, generator=torch.Generator().manual_seed(1)).to(dtype)
    ref = base.float().numpy()

    def check(logits, expected):
        got = logits.float().numpy()
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(expected))
        np.testing.assert_array_equal(got[~np.isneginf(expected)], expected[~np.isneginf(expected)])

    logits = base.clone()
    xgram.apply_token_bitmask_inplace(logits, bm)
    check(logits, _expected(ref, bm_np, n))
    logits = base.clone()
    xgram.apply_token_bitmask_inplace(logits, bm, indices=[0])
    check(logits, _expected(ref, bm_np, n, rows=[0]))
    logits = base.clone()
    xgram.apply_token_bitmask_inplace(logits, bm, vocab_size=150, indices=[1])
    check(logits, _expected(ref, bm_np, n, rows=[1], cols=150))
    # the bitmask may also be filled straight into a torch tensor
    tb = xgram.allocate_token_bitmask(1, n)
    assert tuple(tb.shape) == xgram.get_bitmask_shape(1, n)
    m = xgram.GrammarMatcher(v.compile("file:json"))
    m.fill_next_token_bitmask(tb)
    assert np.array_equal(tb.numpy(), bm_np[0:1])


# --------------------------------------------------------------------------
# Minimised reproductions of mismatches found by the walks above
# --------------------------------------------------------------------------


def test_regression_recursive_array_mask_after_earlier_fill():
    """A fill at an earlier step must not make a later mask reject valid tokens.

    Found by test_synthetic_walks_exact_every_step[builtin_json] (seed 1, text ``["",1, 2``).
    """
    vocab = [b"[", b"1,", b"1,2"]
    info = xgram.TokenizerInfo(vocab, xgram.VocabType.RAW)
    cg = xgram.GrammarCompiler(info).compile_grammar(
        'root ::= arr\narr ::= "[" (value ("," value)*)? "]"\nvalue ::= arr | [0-9]+'
    )
    m = xgram.GrammarMatcher(cg)
    assert m.accept_token(0)  # "["
    fill(m, 3)  # without this earlier fill the final mask is right
    assert m.accept_token(2)  # "1,2"  -> text "[1,2"
    mask = unpack(fill(m, 3), 3)
    ref = brute_force(m, 3)
    assert ref.tolist() == [False, True, True]  # "[1,21," and "[1,21,2" are valid prefixes
    assert mask.tolist() == ref.tolist(), f"mask {mask.tolist()} != accept_token {ref.tolist()}"


def _mask_vs_accept(vocab: List[bytes], grammar: str, prefix: Sequence[bytes]):
    info = xgram.TokenizerInfo(vocab, xgram.VocabType.RAW)
    m = xgram.GrammarMatcher(xgram.GrammarCompiler(info).compile_grammar(grammar))
    for piece in prefix:
        assert m.accept_token(vocab.index(piece))
    return unpack(fill(m, len(vocab)), len(vocab)).tolist(), brute_force(m, len(vocab)).tolist()


def test_regression_token_crossing_lookahead_rule_end():
    """A token spanning the end of a rule with a lookahead and the text after it.

    Found by test_synthetic_walks_exact_every_step[lookahead] (step 0, token ``a;``).
    """
    mask, ref = _mask_vs_accept([b"a;"], 'root ::= word ";"\nword ::= "a" (= ";")', [])
    assert ref == [True]  # "a;" is the whole language
    assert mask == ref


@pytest.mark.parametrize("count", [16, 17, 20, 40])
def test_regression_counted_repetition_over_16(count):
    """After one repetition, a token finishing the repetition and the text after it.

    Found by test_synthetic_walks_exact_every_step[bounded_string] (``[^"\\]{0,40}``).
    Passes for counts <= 16.
    """
    mask, ref = _mask_vs_accept([b"a", b"a!"], f'root ::= "a"{{0,{count}}} "!"', [b"a"])
    assert ref == [True, True]  # "aa" and "aa!" are valid
    assert mask == ref
