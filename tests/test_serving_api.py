"""The matcher calls a serving engine makes (XGrammar 0.2.9's serving surface).

``find_jump_forward_tokens``, ``validate_tokens``, ``traverse_draft_tree``,
``temperature`` / ``get_captures`` / ``max_rollback_tokens`` and
``BatchGrammarMatcher`` are checked three ways:

* exact expectations on small vocabularies (every rule of the jump-forward
  split, the draft-tree row conventions, argument errors, batch row errors);
* against ground truth built from the primitive calls (accept and roll back,
  fill one row at a time, a recursive draft-tree walk on forks) on a JSON-schema
  grammar and an EBNF grammar with the Llama-3 vocabulary;
* against the real ``xgrammar`` on the same compiled languages (xgram's EBNF
  printed and given to XGrammar) and the same vocabulary: jump-forward tokens
  along texts, 50 random draft trees, batch results.

Real tokenizers live in ``../shared/tokenizers``; without it those cases skip.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from types import SimpleNamespace
from typing import List, Tuple

import numpy as np
import pytest

import xgram
from xgram.batch import BatchGrammarMatcher, BatchRowError

REPO = Path(__file__).resolve().parent.parent
SHARED_TOKENIZERS = Path(
    os.environ.get("XGRAM_SHARED_TOKENIZERS", REPO.parent / "shared" / "tokenizers")
)
LLAMA3 = SHARED_TOKENIZERS / "llama3" / "tokenizer.json"
SHARED_SKIP_REASON = f"real-tokenizer test skipped: ../shared/tokenizers not found ({LLAMA3})"
UNTOUCHED = 0x1234  # rows the draft-tree walk must not write keep this value

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def small(vocab: List[str], grammar: str, stop: int = -1, **matcher_args) -> xgram.GrammarMatcher:
    """A matcher over a RAW vocabulary whose last token (or ``stop``) is the stop token."""
    stop_id = len(vocab) - 1 if stop < 0 else stop
    info = xgram.TokenizerInfo(vocab, stop_token_ids=[stop_id])
    return xgram.GrammarMatcher(
        xgram.GrammarCompiler(info).compile_grammar(grammar), **matcher_args
    )


def fill(m: xgram.GrammarMatcher) -> np.ndarray:
    bm = np.zeros(
        xgram.get_bitmask_shape(1, m.compiled_grammar.tokenizer_info.vocab_size), np.int32
    )
    m.fill_next_token_bitmask(bm)
    return bm[0]


def chain(tokens: List[int]) -> Tuple[List[int], List[int], List[int]]:
    """A draft tree that is a single path: node i's child is node i + 1."""
    n = len(tokens)
    return [i + 1 if i + 1 < n else -1 for i in range(n)], [-1] * n, tokens


def from_parents(parents: List[int], tokens: List[int]) -> Tuple[List[int], List[int], List[int]]:
    """First-child / next-sibling arrays of the tree given by each node's parent (node 0: -1)."""
    n = len(parents)
    first_child, next_sibling, last_child = [-1] * n, [-1] * n, {}
    for node in range(1, n):
        parent = parents[node]
        if parent in last_child:
            next_sibling[last_child[parent]] = node
        else:
            first_child[parent] = node
        last_child[parent] = node
    return first_child, next_sibling, tokens


def reference_walk(m: xgram.GrammarMatcher, tree, words: int):
    """Ground truth for traverse_draft_tree: recursion over each node's children, on forks."""
    first_child, next_sibling, tokens = tree
    vocab_size = m.compiled_grammar.tokenizer_info.vocab_size
    rows = np.full((len(tokens), words), UNTOUCHED, np.int32)
    temps = np.full(len(tokens), -1.0, np.float32)

    def visit(node: int, state: xgram.GrammarMatcher) -> None:
        if state.is_terminated():
            rows[node] = 0
            return
        rows[node] = fill(state)
        temps[node] = -1.0 if state.temperature is None else state.temperature
        child = first_child[node]
        while child != -1:
            branch = state.fork()
            if 0 <= tokens[child] < vocab_size and branch.accept_token(tokens[child]):
                visit(child, branch)
            else:
                rows[child] = 0
            child = next_sibling[child]

    visit(0, m.fork())
    return rows, temps


def traverse(m: xgram.GrammarMatcher, tree, words: int, **kwargs):
    rows = np.full((len(tree[2]), words), UNTOUCHED, np.int32)
    temps = np.zeros(len(tree[2]), np.float32)
    done = m.traverse_draft_tree(
        *[np.array(a, np.int64) for a in tree], rows, temperatures=temps, **kwargs
    )
    return done, rows, temps


# --------------------------------------------------------------------------
# Small vocabularies: exact expectations
# --------------------------------------------------------------------------

V = ["a", "b", "ab", "abc", "d", "x", "</s>"]  # 0..6, stop 6


@pytest.mark.parametrize(
    "vocab, grammar, expected",
    [
        (V, 'root ::= "abdab" [x-z]', [2, 4]),  # ab d | ab omitted: a prefix of abc
        (V, 'root ::= "abcab" [x-z]', [3]),  # greedy takes abc, not ab c
        (V, 'root ::= "abdeab" [x-z]', [2, 4]),  # no token spells e: the split stops there
        (V, 'root ::= "abeab" [x-z]', []),  # ab, stopped at e, then omitted
        (V, 'root ::= "ab" [x-z]', []),
        (V, 'root ::= "ab" "c"', [3]),
        (["a", "b", "ab", "aba", "d", "x", "</s>"], 'root ::= "abab" [x-z]', [3, 1]),
        (["a", "b", "ab", "x", "ab", "d", "x", "</s>"], 'root ::= "abxab" [x-z]', [2, 3, 2]),
        (V, 'root ::= "ab" | "abd"', []),  # nothing forced
        (["a", "é", "è", b"\xc3", "</s>"], 'root ::= "é" | "è"', []),  # forced byte C3
        (["a", "é", "è", b"\xc3", "</s>"], 'root ::= "aé" | "aè"', [0]),
    ],
)
def test_jump_forward_tokens_rules(vocab, grammar, expected):
    m = small(vocab, grammar)
    before = fill(m)
    assert m.find_jump_forward_tokens() == expected
    assert np.array_equal(fill(m), before)
    for token in expected:
        assert m.accept_token(token)


def test_jump_forward_tokens_skip_stop_tokens():
    vocab = ["a", "b", "ab", "abab", "d", "x", "</s>"]
    assert small(vocab, 'root ::= "abab" [x-z]').find_jump_forward_tokens() == [3]
    m = small(vocab, 'root ::= "abab" [x-z]', override_stop_tokens=[3])
    assert m.find_jump_forward_tokens() == [2, 2]  # abab is a stop token now: not text


def test_jump_forward_when_completed_or_terminated():
    m = small(V, 'root ::= "ab" "d"?')
    assert m.accept_token(2) and m.is_completed()
    assert m.find_jump_forward_tokens() == []
    assert m.accept_token(6) and m.is_terminated()
    assert m.find_jump_forward_tokens() == []
    t = small(V, 'root ::= "ab" "dab"', terminate_without_stop_token=True)
    assert t.accept_string("abdab") and t.is_terminated()
    assert t.find_jump_forward_tokens() == []


def test_jump_forward_string_keeps_complete_characters():
    m = small(["a", "é", "è", b"\xc3", b"\xa9", "z", "</s>"], 'root ::= "é" | "è"')
    assert m.find_jump_forward_string() == ""  # only the first byte is forced
    m = small(["a", "é", b"\xc3", b"\xa9", "z", "</s>"], 'root ::= "aéé" [y-z]')
    assert m.find_jump_forward_string() == "aéé"
    assert m.accept_token(0) and m.accept_token(2)  # "a" then half of "é"
    assert m.find_jump_forward_string() == ""  # starts inside a character
    assert m.find_jump_forward_tokens() == [3, 1]  # the raw bytes still split


def test_temperature_captures_rollback_window():
    m = small(V, 'root ::= "ab" [x-z]*', default_temperature=0.5, max_rollback_tokens=3)
    assert m.temperature == 0.5 and m.fork().temperature == 0.5
    assert m.max_rollback_tokens == 3 and m.fork().max_rollback_tokens == 3
    assert m.get_captures() == [] and m.get_captures(deduplicate=False) == []
    d = small(V, 'root ::= "ab"')
    assert d.temperature is None and d.max_rollback_tokens == -1
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(xgram.UsageError, match="default_temperature"):
            small(V, 'root ::= "ab"', default_temperature=bad)


def test_debug_print_is_accepted():
    m = small(V, 'root ::= "ab" [x-z]*')
    bm = np.zeros((2, 1), np.int32)
    assert m.fill_next_token_bitmask(bm, 1, debug_print=True)
    assert m.accept_token(0, debug_print=True) and m.accept_string("b", debug_print=True)


def test_validate_tokens():
    m = small(V, 'root ::= "ab" [x-z]*')
    before = fill(m)
    assert m.validate_tokens([2, 5, 5, 6, 5]) == 4  # nothing after the stop token
    assert m.validate_tokens(np.array([0, 1, 3], np.int64)) == 2
    assert m.validate_tokens([]) == 0
    assert np.array_equal(fill(m), before) and not m.is_terminated()
    with pytest.raises(xgram.UsageError, match=r"token_ids\[1\] = 99"):
        m.validate_tokens([2, 99])
    with pytest.raises(xgram.UsageError, match="not an integer"):
        m.validate_tokens([2, 1.5])
    # a bounded window smaller than the tokens: validated on a fork
    w = small(V, 'root ::= "ab" [x-z]*', max_rollback_tokens=1)
    assert w.accept_token(2)
    after_ab = fill(w)
    assert w.accept_token(5)
    assert w.validate_tokens([5, 5, 5, 4]) == 3
    w.rollback(1)  # the window still holds the last token accepted before
    assert np.array_equal(fill(w), after_ab)


def test_draft_tree_row_conventions():
    m = small(["a", "b", "c", "d", "x", "</s>"], 'root ::= "a" [bc]* "d"', default_temperature=0.5)
    assert m.accept_token(0)
    # node 0 (a, accepted) > 1 (b) > 3 (x, rejected) > 4 (never visited); 1 + 2 (d) > 5 (stop)
    tree = from_parents([-1, 0, 0, 1, 3, 2, 0], [0, 1, 3, 4, 2, 5, 5])
    done, rows, temps = traverse(m, tree, 1)
    assert done
    bd, stop = 0b1110, 0b100000  # b c d | the stop token
    assert rows[:, 0].tolist() == [bd, bd, stop, 0, UNTOUCHED, 0, 0]
    assert temps.tolist() == [0.5, 0.5, 0.5, -1.0, -1.0, -1.0, -1.0]
    expected_rows, expected_temps = reference_walk(m, tree, 1)
    assert np.array_equal(rows, expected_rows) and np.array_equal(temps, expected_temps)
    assert np.array_equal(fill(m), [bd]) and m.accept_token(3)


def reference_chain(m: xgram.GrammarMatcher, draft: List[int], words: int):
    """Ground truth for traverse_draft_chain: accept token by token on a fork, fill each row."""
    state, rows = m.fork(), np.zeros((len(draft) + 1, words), np.int32)
    for position, token in enumerate([None, *draft]):
        if token is not None and not state.accept_token(token):
            return position - 1, rows
        if state.is_terminated():
            return position, rows
        rows[position] = fill(state)
    return len(draft), rows


def test_draft_chain_rows_and_count():
    m = small(["a", "b", "c", "d", "x", "</s>"], 'root ::= "a" [bc]* "d"')
    assert m.accept_token(0)
    bd, stop = 0b1110, 0b100000  # b c d | the stop token
    cases = [
        ([1, 2, 3, 5], 4, [bd, bd, bd, stop, 0]),  # the stop token is allowed; nothing after it
        ([1, 4, 3], 1, [bd, bd, 0, 0]),  # x refused: the rows past it are zeroed
        ([4, 1], 0, [bd, 0, 0]),
        ([], 0, [bd]),
    ]
    for draft, allowed, expected in cases:
        rows = np.full((len(draft) + 1, 1), UNTOUCHED, np.int32)
        assert m.traverse_draft_chain(draft, rows) == allowed == m.validate_tokens(draft)
        assert rows[:, 0].tolist() == expected
        reference_allowed, reference_rows = reference_chain(m, draft, 1)
        assert reference_allowed == allowed and np.array_equal(rows, reference_rows)
        assert np.array_equal(fill(m), [bd])  # the matcher is unchanged
    # a numpy draft; a bitmask that is not C-contiguous is refused before any write
    rows = np.zeros((4, 1), np.int32)
    assert m.traverse_draft_chain(np.array([1, 4, 3]), rows) == 1
    assert rows[:, 0].tolist() == [bd, bd, 0, 0]
    wide = np.full((4, 2), UNTOUCHED, np.int32)
    with pytest.raises(xgram.UsageError, match="C-contiguous"):
        m.traverse_draft_chain([1, 4, 3], wide[:, :1])
    assert (wide == UNTOUCHED).all()
    # a bounded rollback window: the walk runs on a copy
    w = small(["a", "b", "c", "d", "x", "</s>"], 'root ::= "a" [bc]* "d"', max_rollback_tokens=1)
    assert w.accept_token(0)
    rows = np.zeros((5, 1), np.int32)
    assert w.traverse_draft_chain([1, 2, 3, 5], rows) == 4
    assert rows[:, 0].tolist() == [bd, bd, bd, stop, 0] and np.array_equal(fill(w), [bd])
    with pytest.raises(xgram.UsageError, match="3 rows for a draft of 3 tokens; it needs 4"):
        m.traverse_draft_chain([1, 2, 3], np.zeros((3, 1), np.int32))
    with pytest.raises(xgram.UsageError, match=r"draft_tokens\[1\] = 99 is out of range \[0, 6\)"):
        m.traverse_draft_chain([1, 99], np.zeros((3, 1), np.int32))
    with pytest.raises(
        xgram.UsageError, match=r"draft_tokens\[0\] = 1099511627776 is out of range"
    ):
        m.traverse_draft_chain([2**40], np.zeros((2, 1), np.int32))
    with pytest.raises(xgram.UsageError, match=r"draft_tokens\[1\] = -1 is out of range"):
        m.traverse_draft_chain(np.array([1, -1]), np.zeros((3, 1), np.int32))


def test_draft_chain_into_torch_bitmask():
    torch = pytest.importorskip("torch")
    m = small(["a", "b", "c", "d", "x", "</s>"], 'root ::= "a" [bc]* "d"')
    assert m.accept_token(0)
    rows = torch.full((4, 1), UNTOUCHED, dtype=torch.int32)
    assert m.traverse_draft_chain(torch.tensor([1, 3, 5]), rows) == 3
    assert rows[:, 0].tolist() == [0b1110, 0b1110, 0b100000, 0]


def test_draft_tree_inputs_and_errors():
    torch = pytest.importorskip("torch")
    m = small(V, 'root ::= "ab" [x-z]*')
    tree = chain([0, 2, 5, 5])
    rows = torch.full((4, 1), UNTOUCHED, dtype=torch.int32)
    as_tensors = [torch.tensor(a, dtype=torch.int64) for a in tree]
    assert m.traverse_draft_tree(*as_tensors, rows)
    assert rows[:, 0].tolist() == [0b101, 0b1100000, 0b1100000, 0b1100000]
    lists = np.full((4, 1), UNTOUCHED, np.int32)
    assert m.traverse_draft_tree(*tree, lists) and np.array_equal(lists, rows.numpy())
    bad = {
        "the root": ([1, -1], [1, -1], [0, 0]),
        "outside": ([5, -1], [-1, -1], [0, 0]),
        "target of 2 links": ([1, 2, -1], [-1, 2, -1], [0, 0, 0]),
        "lengths": ([1, -1], [-1], [0, 0]),
        "empty": ([], [], []),
    }
    for message, arrays in bad.items():
        with pytest.raises(xgram.UsageError, match=message):
            m.traverse_draft_tree(*arrays, np.zeros((len(arrays[0]), 1), np.int32))
    with pytest.raises(xgram.UsageError, match="rows"):
        m.traverse_draft_tree(*tree, np.zeros((3, 1), np.int32))
    with pytest.raises(xgram.UsageError, match="integer"):
        m.traverse_draft_tree(np.array([1.0, -1]), [-1, -1], [0, 0], np.zeros((2, 1), np.int32))
    with pytest.raises(xgram.UsageError, match="float32"):
        m.traverse_draft_tree(*tree, lists, temperatures=np.zeros(4))


def test_draft_tree_timeout_and_bounded_window():
    m = small(V, 'root ::= "ab" [x-z]*', max_rollback_tokens=2)
    assert m.accept_token(2)
    tree = chain([0, 5, 5, 5, 5, 5])  # deeper than the rollback window
    done, rows, _ = traverse(m, tree, 1)
    assert done and (rows[:, 0] == 0b1100000).all()
    assert np.array_equal(rows, reference_walk(m, tree, 1)[0])
    m.rollback(1)  # the window was not spent by the walk
    assert m.accept_token(0)
    unbounded = small(V, 'root ::= "ab" [x-z]*')
    assert unbounded.accept_token(2)
    done, rows, _ = traverse(unbounded, tree, 1, time_threshold=1e-12)
    assert not done  # the first child is past the deadline: only the root is filled
    assert rows[0, 0] == 0b1100000 and (rows[1:, 0] == UNTOUCHED).all()
    assert unbounded.accept_token(5) and unbounded.validate_tokens([5]) == 1


def test_batch_small():
    batch = BatchGrammarMatcher()
    assert batch.max_threads >= 1 and BatchGrammarMatcher(1).max_threads == 1
    with pytest.raises(xgram.UsageError):
        BatchGrammarMatcher(0)
    ms = [small(V, 'root ::= "ab" [x-z]*', default_temperature=t) for t in (0.5, None, 2.0)]
    assert batch.batch_accept_token(ms, [2, 0, 5]) == [True, True, False]
    assert batch.batch_accept_string(ms, ["x", b"b", "ab"]) == [True, True, True]
    with pytest.raises(BatchRowError, match="row 1") as err:
        batch.batch_accept_token(ms, np.array([5, 99, 4]))
    assert err.value.results == [True, None, False] and list(err.value.failures) == [1]
    assert isinstance(err.value, xgram.UsageError)
    assert ms[0].validate_tokens([5]) == 1  # row 0 was carried out: x, x accepted
    batch.batch_rollback(ms, [1, 0, 1])
    with pytest.raises(BatchRowError, match="row 2 failed"):
        batch.batch_rollback(ms, 2)  # rows 1 and 2 hold only one accepted step
    temps = np.full(5, 7.0, np.float32)
    batch.batch_fill_temperature(ms, temps, indices=[4, 0, 2])
    assert temps.tolist() == [-1.0, 7.0, 2.0, 7.0, 0.5]
    with pytest.raises(xgram.UsageError, match="same length"):
        batch.batch_accept_token(ms, [1, 2])
    with pytest.raises(TypeError, match=r"matchers\[1\]"):
        batch.batch_rollback([ms[0], "m"], 1)


# --------------------------------------------------------------------------
# Llama-3: ground truth and the real xgrammar
# --------------------------------------------------------------------------

STOPS = [128001, 128009]
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"enum": ["Bob", "Alice", "Zoë"]},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "ok": {"type": "boolean"},
        "tags": {"type": "array", "items": {"enum": ["alpha", "beta"]}},
    },
    "required": ["name", "age", "ok", "tags"],
}
SCHEMA_TEXT = '{"name": "Zoë", "age": 42, "ok": true, "tags": ["alpha", "beta"]}'
EBNF = r"""
root ::= "<call>" " "? name "(" (arg ("," " "? arg)*)? ")" " "? "</call>"
name ::= [a-z_]+
arg ::= [a-z]+ " "? "=" " "? (number | "true" | "false")
number ::= "-"? [0-9]+ ("." [0-9]+)?
"""
EBNF_TEXT = "<call> get_weather(days = 3, metric=true, lat=-12.5) </call>"


@pytest.fixture(scope="module")
def llama3():
    if not LLAMA3.is_file():
        pytest.skip(SHARED_SKIP_REASON)
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(LLAMA3))
    ids = tok.get_vocab(with_added_tokens=True)
    encoded = [""] * (max(ids.values()) + 1)
    for text, token_id in ids.items():
        encoded[token_id] = text
    # Built from the spellings (no special tokens beyond the stops) so that
    # xgrammar's TokenizerInfo below sees exactly the same vocabulary.
    info = xgram.TokenizerInfo(encoded, xgram.VocabType.BYTE_LEVEL, stop_token_ids=STOPS)
    compiler = xgram.GrammarCompiler(info)
    cases = {}
    for name, grammar, text in (
        ("schema", xgram.Grammar.from_json_schema(SCHEMA, any_whitespace=False), SCHEMA_TEXT),
        ("ebnf", xgram.Grammar.from_ebnf(EBNF), EBNF_TEXT),
    ):
        cases[name] = SimpleNamespace(
            ebnf=str(grammar),
            compiled=compiler.compile_grammar(grammar),
            ids=tok.encode(text, add_special_tokens=False).ids,
        )
    return SimpleNamespace(
        encoded=encoded, info=info, cases=cases, words=(info.vocab_size + 31) // 32
    )


@pytest.fixture(scope="module")
def xgr_llama3(llama3):
    xgr = pytest.importorskip("xgrammar")
    pytest.importorskip("torch")
    info = xgr.TokenizerInfo(llama3.encoded, xgr.VocabType.BYTE_LEVEL, stop_token_ids=STOPS)
    compiler = xgr.GrammarCompiler(info)
    compiled = {name: compiler.compile_grammar(case.ebnf) for name, case in llama3.cases.items()}
    return SimpleNamespace(xgr=xgr, compiled=compiled)


def at_prefix(case, length: int, **kwargs) -> xgram.GrammarMatcher:
    m = xgram.GrammarMatcher(case.compiled, **kwargs)
    for token in case.ids[:length]:
        assert m.accept_token(token)
    return m


def random_tree(m: xgram.GrammarMatcher, rng: random.Random, size: int):
    """A draft tree whose tokens are mostly allowed (so it has depth), some random or stop."""
    vocab_size = m.compiled_grammar.tokenizer_info.vocab_size
    parents, tokens, states = [-1], [0], {0: m.fork()}
    for node in range(1, size):
        parent = rng.randrange(node)
        state = states.get(parent)
        if state is not None and not state.is_terminated() and rng.random() < 0.75:
            bits = np.unpackbits(fill(state).view(np.uint8), bitorder="little")[:vocab_size]
            token = int(rng.choice(np.flatnonzero(bits)))
        else:
            token = STOPS[0] if rng.random() < 0.2 else rng.randrange(vocab_size)
        parents.append(parent)
        tokens.append(token)
        if state is not None and not state.is_terminated():
            branch = state.fork()
            if branch.accept_token(token):
                states[node] = branch
    return from_parents(parents, tokens)


@pytest.mark.parametrize("name", ["schema", "ebnf"])
def test_serving_calls_match_ground_truth(llama3, name):
    case = llama3.cases[name]
    rng = random.Random(name)
    for step in range(0, len(case.ids), 3):
        m = at_prefix(case, step, default_temperature=0.25)
        before = fill(m)
        # validate_tokens: the accepted prefix, with a bad token planted at `cut`
        cut = rng.randrange(len(case.ids) - step + 1)
        candidate = case.ids[step:] + [STOPS[0]]
        if cut < len(candidate) - 1:
            candidate[cut] = STOPS[0]  # refused: the text is complete only at its end
        assert m.validate_tokens(candidate) == (cut if cut < len(candidate) - 1 else len(candidate))
        # jump-forward tokens: a prefix of the forced bytes, accepted in full
        forced = m.find_jump_forward_string().encode()
        jump = m.find_jump_forward_tokens()
        spelled = b"".join(llama3.info.decoded_vocab[t] for t in jump)
        assert spelled.startswith(forced) or forced.startswith(spelled)
        assert m.validate_tokens(jump) == len(jump)
        # draft trees against the recursive walk on forks
        for _ in range(2):
            tree = random_tree(m, rng, rng.randrange(1, 12))
            done, rows, temps = traverse(m, tree, llama3.words)
            expected_rows, expected_temps = reference_walk(m, tree, llama3.words)
            assert (
                done
                and np.array_equal(rows, expected_rows)
                and np.array_equal(temps, expected_temps)
            )
        # linear drafts: the instance's next tokens, one of them replaced at random
        for _ in range(2):
            draft = case.ids[step : step + rng.randrange(0, 9)] + [STOPS[0]]
            if rng.random() < 0.5:
                draft[rng.randrange(len(draft))] = rng.randrange(llama3.info.vocab_size)
            rows = np.full((len(draft) + 1, llama3.words), UNTOUCHED, np.int32)
            allowed, expected_rows = reference_chain(m, draft, llama3.words)
            assert m.traverse_draft_chain(draft, rows) == allowed == m.validate_tokens(draft)
            assert np.array_equal(rows, expected_rows)
        assert np.array_equal(fill(m), before)


def test_batch_matches_single_calls(llama3):
    prefixes = [(case, k) for case in llama3.cases.values() for k in (0, 3, 7)]
    ms = [at_prefix(case, k) for case, k in prefixes]
    singles = [m.fork() for m in ms]
    batch = BatchGrammarMatcher(2)
    bitmask = np.full((len(ms) + 2, llama3.words), UNTOUCHED, np.int32)
    rows = list(range(len(ms) + 1, 1, -1))
    batch.batch_fill_next_token_bitmask(ms, bitmask, rows)
    for m, row in zip(singles, rows):
        assert np.array_equal(bitmask[row], fill(m))
    assert (bitmask[:2] == UNTOUCHED).all()
    # odd rows get their next token, even rows the stop token (refused)
    tokens = [case.ids[k] if i % 2 else STOPS[0] for i, (case, k) in enumerate(prefixes)]
    accepted = batch.batch_accept_token(ms, tokens)
    assert accepted == [m.accept_token(t) for m, t in zip(singles, tokens)]
    assert accepted == [i % 2 == 1 for i in range(len(ms))]
    assert all(np.array_equal(fill(a), fill(b)) for a, b in zip(ms, singles))
    batch.batch_rollback(ms, [int(a) for a in accepted])
    assert all(np.array_equal(fill(m), bitmask[row]) for m, row in zip(ms, rows))


def test_jump_forward_tokens_match_xgrammar(llama3, xgr_llama3):
    for name, case in llama3.cases.items():
        ours = xgram.GrammarMatcher(case.compiled)
        theirs = xgr_llama3.xgr.GrammarMatcher(xgr_llama3.compiled[name])
        non_empty = 0
        for token in case.ids:
            jump = ours.find_jump_forward_tokens()
            assert jump == theirs.find_jump_forward_tokens(), (name, token)
            assert ours.find_jump_forward_string() == theirs.find_jump_forward_string()
            non_empty += bool(jump)
            assert ours.accept_token(token) and theirs.accept_token(token)
        assert non_empty >= 3


def test_draft_trees_match_xgrammar(llama3, xgr_llama3):
    torch = pytest.importorskip("torch")
    rng = random.Random(7)
    timeouts = 0
    for trial in range(50):
        name = ("schema", "ebnf")[trial % 2]
        case = llama3.cases[name]
        step = rng.randrange(len(case.ids))
        ours = at_prefix(case, step, default_temperature=0.7)
        theirs = xgr_llama3.xgr.GrammarMatcher(xgr_llama3.compiled[name], default_temperature=0.7)
        for token in case.ids[:step]:
            assert theirs.accept_token(token)
        tree = [
            torch.tensor(a, dtype=torch.int64) for a in random_tree(ours, rng, rng.randrange(1, 14))
        ]
        threshold = 1e-12 if trial % 10 == 9 else -1.0  # some walks time out at the first child
        results = []
        for matcher in (ours, theirs):
            rows = torch.full((len(tree[2]), llama3.words), UNTOUCHED, dtype=torch.int32)
            temps = torch.zeros(len(tree[2]))
            done = matcher.traverse_draft_tree(*tree, rows, threshold, temps)
            results.append((done, rows, temps))
        (done, rows, temps), (their_done, their_rows, their_temps) = results
        assert done == their_done, trial
        timeouts += not done
        assert torch.equal(rows, their_rows), (trial, name, step, tree)
        assert torch.equal(temps, their_temps), trial
    assert timeouts >= 2


def test_batch_matches_xgrammar(llama3, xgr_llama3):
    torch = pytest.importorskip("torch")
    xgr = xgr_llama3.xgr
    prefixes = [(name, k) for name in llama3.cases for k in (0, 2, 5, 9)]
    ours = [
        at_prefix(llama3.cases[name], k, default_temperature=0.1 * k or None)
        for name, k in prefixes
    ]
    theirs = []
    for name, k in prefixes:
        theirs.append(
            xgr.GrammarMatcher(xgr_llama3.compiled[name], default_temperature=0.1 * k or None)
        )
        for token in llama3.cases[name].ids[:k]:
            assert theirs[-1].accept_token(token)
    indices = list(reversed(range(len(prefixes))))
    masks = []
    for batch, matchers in ((BatchGrammarMatcher(), ours), (xgr.BatchGrammarMatcher(), theirs)):
        bitmask = torch.full((len(prefixes) + 1, llama3.words), UNTOUCHED, dtype=torch.int32)
        batch.batch_fill_next_token_bitmask(matchers, bitmask, indices)
        temps = torch.zeros(len(prefixes) + 1)
        batch.batch_fill_temperature(matchers, temps, indices)
        masks.append((bitmask, temps))
    assert torch.equal(masks[0][0], masks[1][0]) and torch.equal(masks[0][1], masks[1][1])
    # odd prefixes get their next token, even ones the first token again
    tokens = [llama3.cases[name].ids[k if k % 2 else 0] for name, k in prefixes]
    accepted = BatchGrammarMatcher.batch_accept_token(ours, tokens)
    assert accepted == xgr.BatchGrammarMatcher.batch_accept_token(theirs, tokens)
    strings = ['{"name"', "<call> f(", "x", '"', "<call>", "{", "7", ""]
    accepted_strings = BatchGrammarMatcher.batch_accept_string(ours, strings)
    assert accepted_strings == xgr.BatchGrammarMatcher.batch_accept_string(theirs, strings)
    steps = [int(a) + int(b) for a, b in zip(accepted, accepted_strings)]
    BatchGrammarMatcher.batch_rollback(ours, steps)
    xgr.BatchGrammarMatcher.batch_rollback(theirs, steps)
    for m, t in zip(ours, theirs):
        expected = xgr.allocate_token_bitmask(1, llama3.info.vocab_size)
        t.fill_next_token_bitmask(expected)
        assert np.array_equal(fill(m), expected[0].numpy())
