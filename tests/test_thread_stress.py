"""Many threads on shared, lazily filled grammars: every mask equals a single-threaded replay.

The serving pattern of issue 22: request threads each drive their own matchers
over ONE shared ``CompiledGrammar`` whose token-mask entries are computed on first
use and published to the other threads, while other threads compile (sharing the
process-wide rule-DFA cache and the tokenizer's shared mask store) and two threads
run ``BatchGrammarMatcher`` fills and accepts on the C++ worker pool. Matchers are
forked, rolled back and reset under that load. Each thread walks its grammars by
random allowed tokens and records, for every state it met, the grammar, the tokens
accepted since the start (a matcher's state is a function of them: a rollback or a
fork must land on the state a fresh matcher reaches by the same tokens) and the
digest of the allowed-token set (or the jump-forward string). Afterwards one thread
replays every recorded prefix on grammars compiled anew against a separate
``TokenizerInfo`` (its own shared store) and checks that nothing differs.

The run is split into rounds; each compiles the shared grammars again
(``cache_enabled=False``), so every round starts cold. The Llama-3 tokenizer is used
when ``../shared/tokenizers/llama3`` exists, else a synthetic vocabulary of a few
thousand tokens. ``XGRAM_STRESS_SECONDS`` (default 1.5) sets the length of the run,
e.g. 60 under ThreadSanitizer::

    XGRAM_STRESS_SECONDS=60 SANITIZE_DIR=build/tsan-stress \\
        bash scripts/sanitize.sh thread tests/test_thread_stress.py -q
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Set, Tuple

import numpy as np
import pytest

import xgram
from xgram.batch import BatchGrammarMatcher

REPO = Path(__file__).resolve().parent.parent
SHARED_TOKENIZERS = Path(
    os.environ.get("XGRAM_SHARED_TOKENIZERS", REPO.parent / "shared" / "tokenizers")
)
SECONDS = float(os.environ.get("XGRAM_STRESS_SECONDS", "1.5"))
ROUND_SECONDS = 5.0  # a fresh, cold set of shared grammars this often
MATCHER_THREADS = 8
COMPILE_THREADS = 2
BATCH_THREADS = 2
MATCHERS_PER_THREAD = 3
BATCH_ROWS = 6
MAX_DEPTH = 28  # tokens past the start before a walk is rolled back or reset
MIN_STEPS = 6  # per thread and round, however slow the build (a sanitizer's)

# (kind, source): the compiler method and its argument. Shapes differ on purpose:
# objects with keys, numbers, free strings, recursion, a regex, the builtin JSON.
SOURCES: List[Tuple[str, object]] = [
    (
        "json_schema",
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 12},
                "tags": {"type": "array", "items": {"enum": ["a", "bc", "def"]}},
                "n": {"type": "integer", "minimum": -5},
            },
            "required": ["name"],
        },
    ),
    ("json_schema", {"type": "array", "items": {"type": "number"}, "maxItems": 6}),
    ("json_schema", {"type": "object", "additionalProperties": {"type": "boolean"}}),
    (
        "json_schema",
        {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"id": {"type": "string", "pattern": "^[a-f0-9]{4,8}$"}},
                },
                {"type": "array", "items": {"type": "string", "format": "date"}},
            ]
        },
    ),
    ("builtin_json", None),
    (
        "ebnf",
        'root ::= expr\nexpr ::= term ((" + " | " - ") term)*\n'
        'term ::= [0-9]+ | "(" expr ")" | [a-z]+ "(" expr ("," expr)* ")"',
    ),
    ("regex", r"[a-z]{1,8}(-[0-9]{2,4}){0,3}@(example|test)\.(com|org)"),
]


def compile_source(compiler: xgram.GrammarCompiler, index: int) -> xgram.CompiledGrammar:
    kind, source = SOURCES[index]
    if kind == "json_schema":
        return compiler.compile_json_schema(source, any_whitespace=True)
    if kind == "builtin_json":
        return compiler.compile_builtin_json_grammar()
    if kind == "ebnf":
        return compiler.compile_grammar(source)
    return compiler.compile_regex(source)


def synthetic_vocabulary() -> List[object]:
    """A few thousand tokens: characters, JSON pieces, random runs, split UTF-8."""
    pieces: List[object] = [chr(c) for c in range(32, 127)] + ["é", "日本", "\n", "  "]
    pieces += ['{"', '":', '", "', '"]', '["', "true", "false", "null", ", ", ": ", '"}', "]}"]
    pieces += ["name", "tags", "id", "example", "test", ".com", "2024-", "-01", "def", "bc"]
    pieces += [b"\xc3", b"\xa9", b"\xe6\x97", b"\xa5"]  # characters split across tokens
    rng = random.Random(7)
    alphabet = 'abcdefxyz"{}[],:.-+() 0123456789@'
    pieces += ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 6))) for _ in range(3000)]
    unique = list(dict.fromkeys(pieces))
    return unique + ["</s>"]


def tokenizer_infos() -> Tuple[xgram.TokenizerInfo, xgram.TokenizerInfo, str]:
    """Two independent infos for one vocabulary (the stress's and the replay's)."""
    path = SHARED_TOKENIZERS / "llama3" / "tokenizer.json"
    if path.is_file():
        tokenizers = pytest.importorskip("tokenizers")
        tokenizer = tokenizers.Tokenizer.from_file(str(path))
        first = xgram.TokenizerInfo.from_huggingface(tokenizer)
        return first, xgram.TokenizerInfo.from_huggingface(tokenizer), "llama3"
    vocab = synthetic_vocabulary()
    stop = [len(vocab) - 1]
    return (
        xgram.TokenizerInfo(vocab, stop_token_ids=stop),
        xgram.TokenizerInfo(vocab, stop_token_ids=stop),
        f"synthetic ({len(vocab)} tokens)",
    )


def new_bitmask(rows: int, vocab_size: int) -> np.ndarray:
    """A NumPy bitmask: ``allocate_token_bitmask`` would import torch, slow under TSan."""
    return np.full((rows, (vocab_size + 31) // 32), -1, dtype=np.int32)


def mask_digest(row: np.ndarray, vocab_size: int) -> bytes:
    """A digest of the allowed-token set in one bitmask row (the padding bits cleared)."""
    words = row.copy()
    spare = words.size * 32 - vocab_size
    if spare:
        words[-1] &= np.int32(np.uint32(0xFFFFFFFF >> spare).view(np.int32))
    return hashlib.blake2b(words.tobytes(), digest_size=16).digest()


def pick_allowed(row: np.ndarray, rng: random.Random) -> Optional[int]:
    """A random allowed id: a random nonzero word, then a random set bit in it."""
    nonzero = np.flatnonzero(row)
    if nonzero.size == 0:
        return None
    word = int(nonzero[rng.randrange(nonzero.size)])
    bits = int(row[word]) & 0xFFFFFFFF
    set_bits = [b for b in range(32) if bits >> b & 1]
    return word * 32 + rng.choice(set_bits)


@dataclass
class Log:
    """What one thread saw: (grammar, prefix, what) -> observed values, and its errors."""

    seen: Dict[Tuple[int, Tuple[int, ...], str], Set[object]] = field(
        default_factory=lambda: defaultdict(set)
    )
    errors: List[str] = field(default_factory=list)
    steps: int = 0

    def record(self, grammar: int, prefix: List[int], what: str, value: object) -> None:
        self.seen[(grammar, tuple(prefix), what)].add(value)
        self.steps += 1


class Walk:
    """One matcher on grammar ``index`` and the tokens it accepted since the start."""

    def __init__(self, index: int, matcher: xgram.GrammarMatcher, prefix: List[int]) -> None:
        self.index = index
        self.matcher = matcher
        self.prefix = prefix

    def fork(self) -> Walk:
        return Walk(self.index, self.matcher.fork(), list(self.prefix))


def step_walk(
    walk: Walk, bitmask: np.ndarray, vocab_size: int, rng: random.Random, log: Log
) -> None:
    """Fill, record, accept one allowed token; or roll back / reset when done."""
    matcher = walk.matcher
    if matcher.is_terminated() or len(walk.prefix) >= MAX_DEPTH:
        if rng.random() < 0.3 or not walk.prefix:
            matcher.reset()
            walk.prefix.clear()
        else:
            count = rng.randint(1, len(walk.prefix))
            matcher.rollback(count)
            del walk.prefix[-count:]
        return
    matcher.fill_next_token_bitmask(bitmask)
    log.record(walk.index, walk.prefix, "mask", mask_digest(bitmask[0], vocab_size))
    if rng.random() < 0.1:
        log.record(walk.index, walk.prefix, "jump", matcher.find_jump_forward_string())
    token = pick_allowed(bitmask[0], rng)
    if token is None:
        log.errors.append(f"grammar {walk.index}: no token allowed after {walk.prefix}")
        return
    if not matcher.accept_token(token):
        log.errors.append(
            f"grammar {walk.index}: allowed token {token} refused after {walk.prefix}"
        )
        return
    walk.prefix.append(token)


def matcher_thread(
    shared: List[xgram.CompiledGrammar], seed: int, deadline: float, log: Log
) -> None:
    """Own matchers on the shared grammars; fork, roll back and reset them under load."""
    rng = random.Random(seed)
    vocab_size = shared[0].tokenizer_info.vocab_size
    bitmask = new_bitmask(1, vocab_size)
    walks = []
    for _ in range(MATCHERS_PER_THREAD):
        index = rng.randrange(len(shared))
        walks.append(Walk(index, xgram.GrammarMatcher(shared[index]), []))
    steps = 0
    while time.monotonic() < deadline or steps < MIN_STEPS:
        steps += 1
        slot = rng.randrange(len(walks))
        walk = walks[slot]
        roll = rng.random()
        if roll < 0.06:  # continue on a fork, keep the original in another slot
            walks[rng.randrange(len(walks))] = walk
            walks[slot] = walk.fork()
        elif roll < 0.12 and walk.prefix:
            count = rng.randint(1, len(walk.prefix))
            walk.matcher.rollback(count)
            del walk.prefix[-count:]
        elif roll < 0.14:
            walk.matcher.reset()
            walk.prefix.clear()
        elif roll < 0.16:  # a new request on another grammar
            index = rng.randrange(len(shared))
            walks[slot] = Walk(index, xgram.GrammarMatcher(shared[index]), [])
        else:
            step_walk(walk, bitmask, vocab_size, rng, log)


def compile_thread(compiler: xgram.GrammarCompiler, seed: int, deadline: float, log: Log) -> None:
    """Compile again and again (cold grammars, warm rule cache) and walk each a little."""
    rng = random.Random(seed)
    vocab_size = compiler.tokenizer_info.vocab_size
    bitmask = new_bitmask(1, vocab_size)
    compiles = 0
    while time.monotonic() < deadline or compiles < 2:
        compiles += 1
        index = rng.randrange(len(SOURCES))
        walk = Walk(index, xgram.GrammarMatcher(compile_source(compiler, index)), [])
        for _ in range(rng.randint(1, 6)):
            step_walk(walk, bitmask, vocab_size, rng, log)


def batch_thread(shared: List[xgram.CompiledGrammar], seed: int, deadline: float, log: Log) -> None:
    """Batch fills and accepts of this thread's own rows, on the C++ worker pool."""
    rng = random.Random(seed)
    vocab_size = shared[0].tokenizer_info.vocab_size
    batcher = BatchGrammarMatcher(2)
    walks = []
    for _ in range(BATCH_ROWS):
        index = rng.randrange(len(shared))
        walks.append(Walk(index, xgram.GrammarMatcher(shared[index]), []))
    bitmask = new_bitmask(BATCH_ROWS, vocab_size)
    steps = 0
    while time.monotonic() < deadline or steps < MIN_STEPS:
        steps += 1
        for walk in walks:
            if walk.matcher.is_terminated() or len(walk.prefix) >= MAX_DEPTH:
                walk.matcher.reset()
                walk.prefix.clear()
        if rng.random() < 0.15 and all(walk.prefix for walk in walks):
            counts = [rng.randint(1, len(walk.prefix)) for walk in walks]
            batcher.batch_rollback([walk.matcher for walk in walks], counts)
            for walk, count in zip(walks, counts):
                del walk.prefix[-count:]
            continue
        batcher.batch_fill_next_token_bitmask([walk.matcher for walk in walks], bitmask)
        tokens = []
        for row, walk in enumerate(walks):
            log.record(walk.index, walk.prefix, "mask", mask_digest(bitmask[row], vocab_size))
            token = pick_allowed(bitmask[row], rng)
            tokens.append(0 if token is None else token)
        accepted = batcher.batch_accept_token([walk.matcher for walk in walks], tokens)
        for walk, token, ok in zip(walks, tokens, accepted):
            if not ok:
                log.errors.append(f"batch: allowed token {token} refused after {walk.prefix}")
            else:
                walk.prefix.append(token)


def guarded(target: Callable[..., None], *args: object) -> Callable[[], None]:
    """Run ``target`` and keep whatever it raises in its log (the last argument)."""
    log: Log = args[-1]  # type: ignore[assignment]

    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:  # reported by the main thread
            log.errors.append(f"{target.__name__}: {type(exc).__name__}: {exc}")

    return run


def stress_round(
    compiler: xgram.GrammarCompiler, seconds: float, seed: int
) -> Tuple[List[Log], int]:
    """One round: fresh shared grammars and every kind of thread for ``seconds``.

    Returns the threads' logs and the mask entries the shared grammars gained (each
    computed by whichever thread met its state first, and published to the others).
    """
    shared = [compile_source(compiler, i) for i in range(len(SOURCES))]
    assert all(grammar.num_cached_states == 0 for grammar in shared), "cold at the start"
    deadline = time.monotonic() + seconds
    jobs = []
    for k in range(MATCHER_THREADS):
        jobs.append((matcher_thread, shared, seed * 100 + k, deadline, Log()))
    for k in range(COMPILE_THREADS):
        jobs.append((compile_thread, compiler, seed * 100 + 50 + k, deadline, Log()))
    for k in range(BATCH_THREADS):
        jobs.append((batch_thread, shared, seed * 100 + 70 + k, deadline, Log()))
    threads = [threading.Thread(target=guarded(*job)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 600)
    assert not any(thread.is_alive() for thread in threads), "a stress thread hangs"
    return [job[-1] for job in jobs], sum(grammar.num_cached_states for grammar in shared)


def replay(
    info: xgram.TokenizerInfo,
    seen: Dict[Tuple[int, Tuple[int, ...], str], Set[object]],
) -> List[str]:
    """Recompute every recorded state on one thread; the differences found."""
    compiler = xgram.GrammarCompiler(info, cache_enabled=False)
    bitmask = new_bitmask(1, info.vocab_size)
    differences: List[str] = []
    by_grammar: Dict[int, List[Tuple[Tuple[int, ...], str]]] = defaultdict(list)
    for grammar, prefix, what in seen:
        by_grammar[grammar].append((prefix, what))
    for grammar, keys in sorted(by_grammar.items()):
        # Visit the prefixes in sorted order with one matcher, rolling back to the
        # common part of consecutive prefixes: each costs only the tokens it adds.
        matcher = xgram.GrammarMatcher(compile_source(compiler, grammar))
        path: List[int] = []
        for prefix, what in sorted(keys):
            common = 0
            while common < min(len(path), len(prefix)) and path[common] == prefix[common]:
                common += 1
            if len(path) > common:
                matcher.rollback(len(path) - common)
                del path[common:]
            for token in prefix[common:]:
                if not matcher.accept_token(token):
                    break
                path.append(token)
            if tuple(path) != prefix:
                differences.append(f"grammar {grammar}: replay refuses {list(prefix)}")
                continue
            if what == "mask":
                matcher.fill_next_token_bitmask(bitmask)
                expected: object = mask_digest(bitmask[0], info.vocab_size)
            else:
                expected = matcher.find_jump_forward_string()
            observed = seen[(grammar, prefix, what)]
            if observed != {expected}:
                differences.append(f"grammar {grammar}: {what} differs after {list(prefix)}")
    return differences


def test_threads_on_shared_lazy_grammars_match_a_single_threaded_replay():
    info, reference_info, vocabulary = tokenizer_infos()
    compiler = xgram.GrammarCompiler(info, cache_enabled=False)
    rounds = max(1, round(SECONDS / ROUND_SECONDS))
    logs: List[Log] = []
    published = 0
    started = time.monotonic()
    for seed in range(rounds):
        round_logs, entries = stress_round(compiler, SECONDS / rounds, seed + 1)
        logs += round_logs
        published += entries
    elapsed = time.monotonic() - started
    errors = [error for log in logs for error in log.errors]
    assert not errors, f"{len(errors)} errors, first: {errors[0]}"
    seen: Dict[Tuple[int, Tuple[int, ...], str], Set[object]] = defaultdict(set)
    for log in logs:
        for key, values in log.seen.items():
            seen[key] |= values
    steps = sum(log.steps for log in logs)
    assert steps >= MATCHER_THREADS * MIN_STEPS // 2
    assert len({key[0] for key in seen}) == len(SOURCES), "every grammar was walked"
    differences = replay(reference_info, seen)
    print(
        f"{vocabulary}: {rounds} round(s), {elapsed:.1f} s, {published} shared mask entries "
        f"computed under load, {steps} records, {len(seen)} distinct states, "
        f"{len(differences)} differences"
    )
    assert not differences, f"{len(differences)} differences, first: {differences[0]}"
