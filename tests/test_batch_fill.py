"""The threaded batch fill (``BatchGrammarMatcher.batch_fill_next_token_bitmask``).

Rows run on a persistent pool of C++ threads with the GIL released
(``cpp/runtime/batch_fill.h``). Checked here: every row's mask equals the mask
of filling that row alone, for 1 to 4 threads, with rows sharing grammars whose
mask caches are cold (entries computed and published by several threads at
once); a failing row does not stop the others; batches from several Python
threads at once; a batch in a forked child.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from typing import List

import numpy as np
import pytest

import xgram
from xgram.batch import BatchGrammarMatcher, BatchRowError

SCHEMAS = [
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 12},
            "tags": {"type": "array", "items": {"enum": ["a", "bc", "def"]}},
            "n": {"type": "integer", "minimum": -5},
        },
        "required": ["name"],
    },
    {"type": "array", "items": {"type": "number"}, "maxItems": 6},
    {"type": "object", "additionalProperties": {"type": "boolean"}},
]
VALUES = [
    {"name": "xy z", "tags": ["bc", "a"], "n": 12},
    {"name": "", "n": -5},
    [1, 2.5, -3e2, 0],
    [],
    {"k": True, "other key": False},
]


def vocabulary() -> List[str]:
    """Single characters plus JSON fragments: a few hundred tokens, multi-byte ones too."""
    pieces = [chr(c) for c in range(32, 127)] + ["é", "\u00e9x", "日本"]
    pieces += ['{"', '":', '", "', '"]', '["', "true", "false", "null", ", ", ": ", '"}', "]}"]
    pieces += ["name", "tags", "other", " key", "12", "2.5", "-3", "e2", "bc", "def", '"a"']
    rng = random.Random(3)
    pieces += [
        "".join(rng.choice('abcxyz"{}[],: 0123') for _ in range(rng.randint(2, 4)))
        for _ in range(300)
    ]
    return list(dict.fromkeys(pieces)) + ["</s>"]


def tokenize(vocab: List[str], text: str) -> List[int]:
    """Greedy longest match (any split will do: the grammar is byte-level)."""
    index = {t: i for i, t in enumerate(vocab[:-1])}
    ids, i = [], 0
    while i < len(text):
        for j in range(min(len(text), i + 4), i, -1):
            if text[i:j] in index:
                ids.append(index[text[i:j]])
                i = j
                break
        else:
            raise AssertionError(f"no token for {text[i:]!r}")
    return ids


def matchers_at_positions(count: int, seed: int) -> List[xgram.GrammarMatcher]:
    """`count` matchers on fresh compiles (cold caches), each advanced along a value."""
    vocab = vocabulary()
    info = xgram.TokenizerInfo(vocab, stop_token_ids=[len(vocab) - 1])
    compiler = xgram.GrammarCompiler(info, cache_enabled=False)
    grammars = [compiler.compile_json_schema(s, any_whitespace=False) for s in SCHEMAS]
    rng = random.Random(seed)
    matchers = []
    for _ in range(count):
        g = rng.randrange(len(SCHEMAS))
        valid = [
            v
            for v in VALUES
            if xgram.Grammar.from_json_schema(SCHEMAS[g], any_whitespace=False).accepts(
                json.dumps(v)
            )
        ]
        ids = tokenize(vocab, json.dumps(rng.choice(valid)))
        steps = ids[: rng.randint(0, len(ids))]
        m = xgram.GrammarMatcher(grammars[g])
        for t in steps:
            assert m.accept_token(t)
        matchers.append(m)
    return matchers


def one_by_one(matchers: List[xgram.GrammarMatcher], vocab_size: int) -> np.ndarray:
    bitmask = xgram.allocate_token_bitmask(len(matchers), vocab_size)
    for row, m in enumerate(matchers):
        m.fill_next_token_bitmask(bitmask, row)
    return np.asarray(bitmask)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_batch_equals_rows_filled_alone(threads):
    # cold caches on both sides: the batch computes the entries on several threads
    batched = matchers_at_positions(64, seed=threads)
    alone = matchers_at_positions(64, seed=threads)
    vocab_size = batched[0].compiled_grammar.tokenizer_info.vocab_size
    bitmask = xgram.allocate_token_bitmask(70, vocab_size)
    order = list(range(64))
    random.Random(threads).shuffle(order)
    BatchGrammarMatcher(threads).batch_fill_next_token_bitmask(batched, bitmask, order)
    expected = one_by_one(alone, vocab_size)
    got = np.asarray(bitmask)
    for row in range(64):
        assert np.array_equal(got[order[row]], expected[row]), row
    # and again, warm: the same masks
    BatchGrammarMatcher(threads).batch_fill_next_token_bitmask(batched, bitmask, order)
    assert all(np.array_equal(np.asarray(bitmask)[order[r]], expected[r]) for r in range(64))


def test_failing_rows_do_not_stop_the_others():
    matchers = matchers_at_positions(4, seed=9)
    info = matchers[0].compiled_grammar.tokenizer_info
    vocab_size = info.vocab_size
    terminated = xgram.GrammarMatcher(
        xgram.GrammarCompiler(info).compile_json_schema(SCHEMAS[1], any_whitespace=False)
    )
    assert terminated.accept_string("[]") and terminated.accept_token(info.stop_token_ids[0])
    rows = [matchers[0], matchers[1], matchers[1], matchers[2], matchers[3], terminated]
    bitmask = xgram.allocate_token_bitmask(8, vocab_size)
    with pytest.raises(BatchRowError) as info_:
        BatchGrammarMatcher(2).batch_fill_next_token_bitmask(rows, bitmask, [0, 1, 2, 9, 2, 5])
    failures = info_.value.failures
    assert sorted(failures) == [2, 3, 4, 5], failures
    assert "same matcher as row 1" in str(failures[2])
    assert "out of range" in str(failures[3])
    assert "same bitmask row as row 2" in str(failures[4])
    assert "terminated" in str(failures[5]) and isinstance(failures[5], xgram.UsageError)
    assert "row 2 failed" in str(info_.value)
    expected = one_by_one(matchers[:2], vocab_size)
    assert np.array_equal(np.asarray(bitmask)[0], expected[0])
    assert np.array_equal(np.asarray(bitmask)[1], expected[1])


def test_batches_from_several_python_threads():
    matchers = matchers_at_positions(48, seed=21)
    vocab_size = matchers[0].compiled_grammar.tokenizer_info.vocab_size
    expected = one_by_one(matchers, vocab_size)
    errors: List[BaseException] = []

    def worker(part: int) -> None:
        try:
            rows = matchers[part * 12 : (part + 1) * 12]
            bitmask = xgram.allocate_token_bitmask(12, vocab_size)
            for _ in range(20):
                BatchGrammarMatcher(3).batch_fill_next_token_bitmask(rows, bitmask)
                got = np.asarray(bitmask)
                assert all(np.array_equal(got[r], expected[part * 12 + r]) for r in range(12))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(p,)) for p in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a batch never returned"
    assert not errors, errors[0]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_batch_in_a_forked_child():
    matchers = matchers_at_positions(16, seed=5)
    vocab_size = matchers[0].compiled_grammar.tokenizer_info.vocab_size
    bitmask = xgram.allocate_token_bitmask(16, vocab_size)
    BatchGrammarMatcher(2).batch_fill_next_token_bitmask(matchers, bitmask)  # pool started here
    expected = np.asarray(bitmask).copy()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's workers do not exist here
        ok = False
        try:
            again = xgram.allocate_token_bitmask(16, vocab_size)
            BatchGrammarMatcher(2).batch_fill_next_token_bitmask(matchers, again)
            ok = bool(np.array_equal(np.asarray(again), expected))
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"


def test_async_fill_equals_the_synchronous_one():
    matchers = matchers_at_positions(32, seed=13)
    vocab_size = matchers[0].compiled_grammar.tokenizer_info.vocab_size
    expected = one_by_one(matchers, vocab_size)
    bitmask = xgram.allocate_token_bitmask(32, vocab_size)
    future = BatchGrammarMatcher(2).batch_fill_next_token_bitmask_async(matchers, bitmask)
    busy = sum(i * i for i in range(20000))  # the caller's own work meanwhile
    assert future.result(timeout=60) is None and busy > 0
    assert np.array_equal(np.asarray(bitmask), expected)
    # errors arrive through the future
    future = BatchGrammarMatcher(2).batch_fill_next_token_bitmask_async(
        [matchers[0], matchers[0]], bitmask
    )
    with pytest.raises(BatchRowError, match="row 1 failed"):
        future.result(timeout=60)
    with pytest.raises(TypeError):
        BatchGrammarMatcher(2).batch_fill_next_token_bitmask_async(["x"], bitmask)


def test_python_threads_with_their_own_matchers():
    # Fills keep the GIL when the matcher's last fill was quick and release it
    # otherwise; threads driving their own matchers over shared (cold) grammars
    # get the masks a single thread gets.
    matchers = matchers_at_positions(24, seed=31)
    reference = matchers_at_positions(24, seed=31)
    vocab_size = matchers[0].compiled_grammar.tokenizer_info.vocab_size
    expected = one_by_one(reference, vocab_size)
    got = np.zeros_like(expected)
    errors: List[BaseException] = []

    def worker(part: int) -> None:
        try:
            bitmask = xgram.allocate_token_bitmask(1, vocab_size)
            for _ in range(30):
                for row in range(part, 24, 4):
                    matchers[row].fill_next_token_bitmask(bitmask)
                    got[row] = np.asarray(bitmask)[0]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(p,)) for p in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    assert np.array_equal(got, expected)


def test_batch_accepts_and_rollbacks_equal_row_by_row():
    # 64 rows on the pool: the answers and the states afterwards (seen through
    # their masks) equal accepting and rolling back each row alone
    batched = matchers_at_positions(64, seed=21)
    alone = matchers_at_positions(64, seed=21)
    vocab_size = batched[0].compiled_grammar.tokenizer_info.vocab_size
    rng = random.Random(5)
    for _ in range(6):
        tokens = [rng.randrange(vocab_size) for _ in batched]
        expected = []
        for m, t in zip(alone, tokens):
            expected.append(m.accept_token(t) if not m.is_terminated() else None)
        live = [r for r, e in enumerate(expected) if e is not None]
        got = BatchGrammarMatcher.batch_accept_token(
            [batched[r] for r in live], [tokens[r] for r in live]
        )
        assert got == [expected[r] for r in live]
        assert np.array_equal(one_by_one(batched, vocab_size), one_by_one(alone, vocab_size))
    strings = ['"', "1", ", ", "]", "x"] * 13
    live = [r for r, m in enumerate(alone) if not m.is_terminated()]
    expected = [alone[r].accept_string(strings[r]) for r in live]
    got = BatchGrammarMatcher.batch_accept_string(
        [batched[r] for r in live], [strings[r] for r in live]
    )
    assert got == expected
    counts = [int(accepted) for accepted in expected]  # undo the accepted strings
    for r, k in zip(live, counts):
        alone[r].rollback(k)
    BatchGrammarMatcher.batch_rollback([batched[r] for r in live], counts)
    assert np.array_equal(one_by_one(batched, vocab_size), one_by_one(alone, vocab_size))


def test_batch_accept_with_a_matcher_in_two_rows_runs_the_rows_in_order():
    # as XGrammar's batch calls do: the second row sees the first row's token
    vocab = vocabulary()
    info = xgram.TokenizerInfo(vocab, stop_token_ids=[len(vocab) - 1])
    compiled = xgram.GrammarCompiler(info).compile_grammar('root ::= "ab" "c"')
    m, other = xgram.GrammarMatcher(compiled), xgram.GrammarMatcher(compiled)
    a, b, c = vocab.index("a"), vocab.index("b"), vocab.index("c")
    assert BatchGrammarMatcher.batch_accept_token([m, other, m, m], [a, a, b, c]) == [True] * 4
    assert m.is_completed() and not other.is_completed()
    assert BatchGrammarMatcher.batch_accept_string([other, other], ["b", "c"]) == [True, True]
    BatchGrammarMatcher.batch_rollback([m, m], [1, 1])
    assert m.accept_string("bc")


def test_batch_accept_error_rows():
    vocab = vocabulary()
    info = xgram.TokenizerInfo(vocab, stop_token_ids=[len(vocab) - 1])
    compiled = xgram.GrammarCompiler(info).compile_grammar('root ::= "ab"')
    ms = [xgram.GrammarMatcher(compiled) for _ in range(5)]
    a = vocab.index("a")
    with pytest.raises(BatchRowError) as caught:
        BatchGrammarMatcher.batch_accept_token(ms, [a, len(vocab) + 7, -1, 2**40, a])
    assert sorted(caught.value.failures) == [1, 2, 3]
    assert caught.value.results[0] is True and caught.value.results[4] is True
    assert all(isinstance(e, xgram.UsageError) for e in caught.value.failures.values())
    assert "out of range" in str(caught.value.failures[3])
    with pytest.raises(BatchRowError) as caught:
        BatchGrammarMatcher.batch_accept_string(ms, ["b", "\ud800", 7, b"b", "b"])
    assert sorted(caught.value.failures) == [1, 2]
    assert isinstance(caught.value.failures[2], TypeError)
    assert caught.value.results == [True, None, None, False, True]
    with pytest.raises(BatchRowError) as caught:
        BatchGrammarMatcher.batch_rollback(ms, [2, 5, 0, 0, 2**40])
    assert sorted(caught.value.failures) == [1, 4]
    assert ms[0].accept_string("ab")  # rolled back by two


def test_one_matcher_used_by_two_threads_at_once_is_refused_not_corrupted():
    # A caller's bug: one thread fills (the GIL released) while another accepts.
    # The second call must raise, never race with the first (it used to crash).
    vocab = vocabulary()
    info = xgram.TokenizerInfo(vocab, stop_token_ids=[len(vocab) - 1])
    compiled = xgram.GrammarCompiler(info).compile_grammar("root ::= [a-z]*")
    m = xgram.GrammarMatcher(compiled)
    letters = [i for i, t in enumerate(vocab[:-1]) if t.isascii() and t.isalpha() and t.islower()]
    bitmask = xgram.allocate_token_bitmask(1, info.vocab_size)
    collisions, others, accepted = [], [], []
    stop = threading.Event()

    def filler() -> None:
        while not stop.is_set():
            try:
                m.fill_next_token_bitmask(bitmask)
            except xgram.UsageError as e:
                collisions.append(e)
            except Exception as e:  # noqa: BLE001 - any other error fails the test
                others.append(e)

    def acceptor() -> None:
        rng = random.Random(0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(collisions) < 20:
            try:
                token = rng.choice(letters)
                if m.accept_token(token):
                    accepted.append(token)
            except xgram.UsageError as e:
                collisions.append(e)
            except Exception as e:  # noqa: BLE001
                others.append(e)
        stop.set()

    xgram._core._set_quick_fill_nanoseconds(-1)  # every fill releases the GIL
    try:
        threads = [threading.Thread(target=filler), threading.Thread(target=acceptor)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        xgram._core._set_quick_fill_nanoseconds(50_000)
    assert not others, others[:3]
    assert collisions, "no call overlapped in 5 s"
    assert all("in use by another thread" in str(e) for e in collisions)
    replay = xgram.GrammarMatcher(compiled)
    assert all(replay.accept_token(t) for t in accepted)
    assert np.array_equal(one_by_one([m], info.vocab_size), one_by_one([replay], info.vocab_size))
