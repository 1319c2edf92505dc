"""Speculative decoding and jump-forward on real schemas: xgram vs XGrammar.

Draft trees: ``--trees`` random trees (default 1,000) over ``--schemas`` MaskBench
schemas that both engines compile (default 20), Llama-3 tokenizer. Each tree is
rooted at a random position of a valid instance; a node's token is the
instance's next token (half the time), a token the grammar allows there (a
quarter), or any token (the rest), so trees hold accepted paths, dead branches
and rejected leaves. Checked: every row ``GrammarMatcher.traverse_draft_tree``
writes equals accepting the path's tokens one by one on a fork, filling, and
going back (the ground truth); the matcher is unchanged afterwards. Timed, same
trees, warm caches (one untimed pass first): time per tree node of xgram's and
XGrammar's ``traverse_draft_tree``.

Jump-forward: at every position of the same instances, ``find_jump_forward_tokens``
of both engines are compared where their ``find_jump_forward_string`` agree (where
the strings differ, the engines disagree about the language, not about the
split; those positions are counted apart). Run::

    python benchmarks/bench_draft_tree.py                 # 1,000 trees over 20 schemas
    python benchmarks/bench_draft_tree.py --trees 200 --schemas 10

Linear drafts (``--chains``, default 1,000): the chain form
``GrammarMatcher.traverse_draft_chain`` against a fill / accept / rollback loop.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_batch import CORPUS, LLAMA3, compact, load_cases  # noqa: E402

UNTOUCHED = 0x5A5A5A5A

Tree = Tuple[List[int], List[int], List[int]]  # first child, next sibling, token


def random_tree(rng: random.Random, matcher: Any, path: List[int], vocab_size: int) -> Tree:
    """A tree of up to ~24 nodes below the matcher's current state (node 0)."""
    import xgram

    first_child, next_sibling, tokens = [-1], [-1], [0]
    words = (vocab_size + 31) // 32
    bitmask = np.zeros((1, words), np.int32)

    def allowed_token(state: Any) -> int:
        state.fill_next_token_bitmask(bitmask)
        bits = np.unpackbits(bitmask[0].view(np.uint8), bitorder="little")[:vocab_size]
        ids = np.flatnonzero(bits)
        return int(rng.choice(ids)) if len(ids) else rng.randrange(vocab_size)

    def grow(node: int, state: Any, depth: int, along: int) -> None:
        if depth <= 0 or state.is_terminated():
            return
        previous = -1
        for k in range(rng.randint(1, 3)):
            roll = rng.random()
            if roll < 0.5 and along < len(path):
                token = path[along]
            elif roll < 0.75:
                token = allowed_token(state)
            else:
                token = rng.randrange(vocab_size)
            child = len(tokens)
            first_child.append(-1)
            next_sibling.append(-1)
            tokens.append(token)
            if previous == -1:
                first_child[node] = child
            else:
                next_sibling[previous] = child
            previous = child
            branch = state.fork()
            if branch.accept_token(token):
                on_path = along < len(path) and token == path[along]
                grow(child, branch, depth - 1 - k, along + 1 if on_path else len(path))

    assert isinstance(matcher, xgram.GrammarMatcher)
    grow(0, matcher.fork(), 5, 0)
    return first_child, next_sibling, tokens


def reference_rows(matcher: Any, tree: Tree, words: int, vocab_size: int) -> np.ndarray:
    """Ground truth: each node's row by accepting its path on a fork and filling."""
    first_child, next_sibling, tokens = tree
    rows = np.full((len(tokens), words), UNTOUCHED, np.int32)

    def visit(node: int, state: Any) -> None:
        if state.is_terminated():
            rows[node] = 0
            return
        state.fill_next_token_bitmask(rows, node)
        child = first_child[node]
        while child != -1:
            branch = state.fork()
            if 0 <= tokens[child] < vocab_size and branch.accept_token(tokens[child]):
                visit(child, branch)
            else:
                rows[child] = 0
            child = next_sibling[child]

    visit(0, matcher.fork())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", type=int, default=1000)
    parser.add_argument("--schemas", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chains", type=int, default=1000, help="linear drafts (chain form)")
    args = parser.parse_args()
    faulthandler.dump_traceback_later(600, exit=False)  # where a slow run spends its time
    if not CORPUS.is_dir() or not LLAMA3.is_dir():
        print(f"skipped: {CORPUS} or {LLAMA3} is missing (the shared data)")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    import torch
    import transformers
    import xgrammar

    import xgram

    hf = transformers.AutoTokenizer.from_pretrained(str(LLAMA3))
    vocab_size = len(hf)
    words = (vocab_size + 31) // 32
    ours_compiler = xgram.GrammarCompiler(
        xgram.TokenizerInfo.from_huggingface(hf, vocab_size=vocab_size)
    )
    theirs_compiler = xgrammar.GrammarCompiler(
        xgrammar.TokenizerInfo.from_huggingface(hf, vocab_size=vocab_size)
    )
    schemas = []
    # bench_batch.py's sample (XGrammar hangs compiling some MaskBench schemas)
    for schema, valid in load_cases(args.schemas, args.seed):
        if len(schemas) == args.schemas:
            break
        text = json.dumps(schema)
        try:
            ours = ours_compiler.compile_json_schema(text, any_whitespace=True, strict_mode=False)
            theirs = theirs_compiler.compile_json_schema(
                text, any_whitespace=True, strict_mode=False
            )
        except Exception:  # noqa: BLE001 - a schema either engine refuses is left out
            continue
        paths = [hf.encode(compact(v), add_special_tokens=False) for v in valid]
        paths = [p for p in paths if xgram.GrammarMatcher(ours).validate_tokens(p) == len(p)]
        if paths:
            schemas.append((ours, theirs, paths))
    print(f"{len(schemas)} schemas compiled by both engines; Llama-3 vocabulary {vocab_size}")

    # Trees: (schema, path, root position, tree)
    rng = random.Random(args.seed)
    cases = []
    for i in range(args.trees):
        ours, theirs, paths = schemas[i % len(schemas)]
        path = rng.choice(paths)
        start = rng.randrange(len(path))
        m = xgram.GrammarMatcher(ours)
        for t in path[:start]:
            assert m.accept_token(t)
        cases.append((i % len(schemas), path, start, random_tree(rng, m, path[start:], vocab_size)))
    nodes = sum(len(c[3][2]) for c in cases)
    print(f"{len(cases)} trees, {nodes} nodes ({nodes / len(cases):.1f} per tree)")

    mismatches, unchanged_failures = 0, 0
    engine_rows: dict = {"xgram": [], "xgrammar": []}
    for name in ("xgram", "xgrammar"):
        seconds = 0.0
        for timed in (False, True):  # a warm pass, then the timed one
            for g, path, start, tree in cases:
                ours, theirs, _ = schemas[g]
                if name == "xgram":
                    m: Any = xgram.GrammarMatcher(ours)
                    arrays: List[Any] = [np.array(a, np.int64) for a in tree]
                    rows: Any = np.full((len(tree[2]), words), UNTOUCHED, np.int32)
                else:
                    m = xgrammar.GrammarMatcher(theirs)
                    arrays = [torch.tensor(a, dtype=torch.int64) for a in tree]
                    rows = torch.full((len(tree[2]), words), UNTOUCHED, dtype=torch.int32)
                for t in path[:start]:
                    m.accept_token(t)
                began = time.perf_counter()
                m.traverse_draft_tree(*arrays, rows)
                if timed:
                    seconds += time.perf_counter() - began
                    engine_rows[name].append(np.asarray(rows))
                if name == "xgram" and timed:
                    expected = reference_rows(m, tree, words, vocab_size)
                    mismatches += int(not np.array_equal(np.asarray(rows), expected))
                    after = np.zeros((1, words), np.int32)
                    m.fill_next_token_bitmask(after)
                    unchanged_failures += int(not np.array_equal(after[0], expected[0]))
        print(
            f"{name:>9}: {seconds * 1e6 / nodes:8.1f} us per tree node "
            f"({seconds * 1e3 / len(cases):.2f} ms per tree)"
        )
    same_rows = sum(
        np.array_equal(a, b) for a, b in zip(engine_rows["xgram"], engine_rows["xgrammar"])
    )
    print(
        f"xgram rows vs accept-and-rollback: {mismatches} mismatching trees of {len(cases)}; "
        f"matcher changed after the walk: {unchanged_failures}"
    )
    print(f"trees whose rows equal XGrammar's: {same_rows} of {len(cases)}")
    draft_chains(schemas, args.chains, random.Random(args.seed), words)
    jump_forward(schemas)


def chain_loop(m: Any, draft: List[int], rows: Any) -> int:
    """A linear draft's rows by accept, fill, roll back: what a serving engine writes itself."""
    accepted = 0
    m.fill_next_token_bitmask(rows, 0)
    for position, token in enumerate(draft, 1):
        if m.is_terminated() or not m.accept_token(token):
            break
        accepted += 1
        if not m.is_terminated():
            m.fill_next_token_bitmask(rows, position)
    m.rollback(accepted)
    return accepted


def draft_chains(schemas: List[Any], count: int, rng: random.Random, words: int) -> None:
    """Linear drafts (the chain form): rows checked against the token-by-token loop, and timed.

    A draft is 1 to 8 tokens of an instance from a random position, one of them
    replaced by a random token half the time. Timed per draft position (k tokens
    make k + 1 rows): xgram's ``traverse_draft_chain``, the same rows by a Python
    loop of fill / accept / rollback with each engine, and XGrammar's
    ``traverse_draft_tree`` given the chain as a tree.
    """
    import torch
    import xgrammar

    import xgram

    drafts = []
    for i in range(count):
        g = i % len(schemas)
        path = rng.choice(schemas[g][2])
        start = rng.randrange(len(path))
        draft = path[start : start + rng.randint(1, 8)]
        if rng.random() < 0.5:
            draft[rng.randrange(len(draft))] = rng.randrange(
                schemas[g][0].tokenizer_info.vocab_size
            )
        drafts.append((g, path[:start], draft))
    positions = sum(len(d) + 1 for _, _, d in drafts)

    def run(engine: str, way: str) -> Tuple[float, List[np.ndarray]]:
        seconds, all_rows = 0.0, []
        for g, prefix, draft in drafts:
            ours, theirs, _ = schemas[g]
            m = xgram.GrammarMatcher(ours) if engine == "xgram" else xgrammar.GrammarMatcher(theirs)
            for t in prefix:
                m.accept_token(t)
            rows: Any = np.zeros((len(draft) + 1, words), np.int32)
            if engine == "xgrammar":
                rows = torch.zeros((len(draft) + 1, words), dtype=torch.int32)
                n = len(draft) + 1
                chain = [list(range(1, n)) + [-1], [-1] * n, [0, *draft]]
                arrays = [torch.tensor(a, dtype=torch.int64) for a in chain]
            began = time.perf_counter()
            if way == "chain":
                m.traverse_draft_chain(draft, rows)
            elif way == "tree":
                m.traverse_draft_tree(*arrays, rows)
            else:
                chain_loop(m, draft, rows)
            seconds += time.perf_counter() - began
            all_rows.append(np.asarray(rows))
        return seconds, all_rows

    results = {}
    for engine, way in (
        ("xgram", "chain"),
        ("xgram", "loop"),
        ("xgrammar", "tree"),
        ("xgrammar", "loop"),
    ):
        run(engine, way)  # warm
        results[(engine, way)] = run(engine, way)
    truth = results[("xgram", "loop")][1]
    mismatches = sum(
        not np.array_equal(a, b) for a, b in zip(results[("xgram", "chain")][1], truth)
    )
    same = sum(
        np.array_equal(a, b)
        for a, b in zip(results[("xgram", "chain")][1], results[("xgrammar", "tree")][1])
    )
    print(
        f"{count} linear drafts, {positions} rows; traverse_draft_chain vs the loop: "
        f"{mismatches} mismatching drafts; rows equal to XGrammar's: {same} of {count}"
    )
    for (engine, way), (seconds, _) in results.items():
        label = {
            "chain": "traverse_draft_chain",
            "tree": "traverse_draft_tree",
            "loop": "fill/accept/rollback loop",
        }[way]
        print(f"{engine:>9} {label:<26}: {seconds * 1e6 / positions:8.1f} us per row")


def jump_forward(schemas: List[Tuple[Any, Any, List[List[int]]]]) -> None:
    """find_jump_forward_tokens of both engines at every position of the instances."""
    import xgrammar

    import xgram

    positions = same_string = same_tokens = forced = 0
    for ours, theirs, paths in schemas:
        for path in paths[:3]:
            m, x = xgram.GrammarMatcher(ours), xgrammar.GrammarMatcher(theirs)
            for t in path:
                positions += 1
                text = m.find_jump_forward_string()
                if text == x.find_jump_forward_string():
                    same_string += 1
                    ours_tokens = m.find_jump_forward_tokens()
                    same_tokens += int(ours_tokens == list(x.find_jump_forward_tokens()))
                    forced += int(bool(ours_tokens))
                m.accept_token(t)
                x.accept_token(t)
    print(
        f"jump-forward: {positions} positions; forced strings equal at {same_string}; "
        f"there, forced tokens equal at {same_tokens} ({forced} with a nonempty run)"
    )


if __name__ == "__main__":
    main()
