"""Memory that grows with use is counted and bounded (issue 22, item 2).

* ``CompiledGrammar.memory_size_bytes`` counts the entries computed as matchers
  meet new states and new caller contexts;
* the process-wide shared mask store stays under its limit, evicting the least
  recently used parts, and the masks do not change with the limit;
* ``GrammarCompiler(cache_limit_bytes=...)`` holds after every compile call.
"""

from __future__ import annotations

import json
import random
from typing import List

import numpy as np
import pytest

import xgram

SCHEMAS = [
    {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 20},
            "tags": {"type": "array", "items": {"type": "string"}},
            "n": {"type": "integer"},
            "child": {"$ref": "#"},
        },
    },
    {"type": "array", "items": {"type": "number"}},
    {"type": "object", "additionalProperties": {"type": ["string", "boolean", "null"]}},
    {"type": "object", "properties": {"a": {"enum": ["x", "yy", "zzz"]}, "b": {"type": "number"}}},
]
VALUES = [
    {"name": "ab c", "tags": ["x", "y z"], "n": 12, "child": {"name": "d", "child": {"n": 1}}},
    [1, 2.5, -3e2, 0],
    {"k": "v", "other key": True, "z": None},
    {"a": "yy", "b": -0.5},
]


def vocabulary() -> List[str]:
    pieces = [chr(c) for c in range(32, 127)] + ['{"', '":', '", "', '"]', "true", "null"]
    rng = random.Random(2)
    pieces += [
        "".join(rng.choice('abxyz"{}[],: 0123.e-') for _ in range(rng.randint(2, 4)))
        for _ in range(400)
    ]
    return list(dict.fromkeys(pieces)) + ["</s>"]


@pytest.fixture(scope="module")
def info() -> xgram.TokenizerInfo:
    vocab = vocabulary()
    return xgram.TokenizerInfo(vocab, stop_token_ids=[len(vocab) - 1])


def drive(compiled: xgram.CompiledGrammar, text: str) -> List[np.ndarray]:
    """Fill and accept along ``text`` byte by byte (tokens of one character); the masks."""
    vocab = compiled.tokenizer_info.decoded_vocab
    index = {bytes(t): i for i, t in enumerate(vocab)}
    m = xgram.GrammarMatcher(compiled)
    bitmask = np.zeros((1, (compiled.tokenizer_info.vocab_size + 31) // 32), np.int32)
    masks = []
    for ch in text:
        m.fill_next_token_bitmask(bitmask)
        masks.append(bitmask[0].copy())
        assert m.accept_token(index[ch.encode()])
    m.fill_next_token_bitmask(bitmask)
    masks.append(bitmask[0].copy())
    return masks


def test_memory_size_counts_entries_computed_in_use(info):
    compiled = xgram.GrammarCompiler(info, cache_enabled=False).compile_json_schema(
        SCHEMAS[0], any_whitespace=True
    )
    before = compiled.memory_size_bytes
    assert before > 0
    drive(compiled, json.dumps(VALUES[0]))
    after_one = compiled.memory_size_bytes
    assert after_one > before  # per-state entries (and contexts) were computed
    # The same text again: nothing new to compute, nothing new to count.
    drive(compiled, json.dumps(VALUES[0]))
    assert compiled.memory_size_bytes == after_one
    compiled.precompute(1)
    assert compiled.memory_size_bytes >= after_one


def test_shared_mask_store_stays_under_its_limit(info):
    default = xgram.shared_mask_cache_info()["limit"]
    texts = [json.dumps(v) for v in VALUES]
    try:
        xgram.set_shared_mask_cache_limit(0)
        assert xgram.shared_mask_cache_info()["bytes"] == 0
        compiler = xgram.GrammarCompiler(info, cache_enabled=False)
        unbounded = []
        xgram.set_shared_mask_cache_limit(default)
        for schema, text in zip(SCHEMAS, texts):
            unbounded.append(drive(compiler.compile_json_schema(schema), text))
        full = xgram.shared_mask_cache_info()
        assert 0 < full["bytes"] <= full["limit"] and full["entries"] > 0
        limit = full["bytes"] // 3
        xgram.set_shared_mask_cache_limit(limit)
        shrunk = xgram.shared_mask_cache_info()
        assert shrunk["bytes"] <= limit and shrunk["entries"] < full["entries"]
        for round_ in range(2):  # evicting and recomputing, masks unchanged
            for k, (schema, text) in enumerate(zip(SCHEMAS, texts)):
                masks = drive(compiler.compile_json_schema(schema), text)
                assert all(np.array_equal(a, b) for a, b in zip(masks, unbounded[k])), (round_, k)
                assert xgram.shared_mask_cache_info()["bytes"] <= limit
    finally:
        xgram.set_shared_mask_cache_limit(default)
    with pytest.raises(xgram.UsageError, match=">= 0"):
        xgram.set_shared_mask_cache_limit(-1)


def test_compiler_cache_limit_holds_after_every_compile(info):
    sizes = []
    for schema, value in zip(SCHEMAS, VALUES):
        compiled = xgram.GrammarCompiler(info, cache_enabled=False).compile_json_schema(schema)
        drive(compiled, json.dumps(value))
        sizes.append(compiled.memory_size_bytes)
    limit = sum(sorted(sizes)[:2])  # room for about two grammars
    compiler = xgram.GrammarCompiler(info, cache_limit_bytes=limit)
    for _ in range(2):
        for schema, value in zip(SCHEMAS, VALUES):
            compiled = compiler.compile_json_schema(schema)
            drive(compiled, json.dumps(value))  # the cached grammar grows past the check
            compiler.compile_json_schema(SCHEMAS[1])  # a hit: evicts again
            assert compiler.get_cache_size_bytes() <= limit
