"""CompiledGrammar serialisation: versioned, tied to the tokenizer, exact after a round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

import xgram

VOCAB = [b"{", b"}", b'"', b'"a', b'":', b"1", b"12", b",", b" ", b"true", b"<eos>", b"a", b'a"']


def masks_along(compiled: xgram.CompiledGrammar, tokens: list) -> list:
    matcher = xgram.GrammarMatcher(compiled)
    bm = np.zeros(xgram.get_bitmask_shape(1, compiled.tokenizer_info.vocab_size), np.int32)
    out = []
    for t in tokens:
        matcher.fill_next_token_bitmask(bm)
        out.append(bm.copy())
        assert matcher.accept_token(t)
    return out


@pytest.mark.parametrize("precompute", [False, True])
def test_round_trip_gives_identical_masks_and_keeps_entries(precompute: bool) -> None:
    info = xgram.TokenizerInfo(VOCAB, stop_token_ids=[10])
    compiled = xgram.GrammarCompiler(info, precompute=precompute).compile_builtin_json_grammar()
    path = [0, 3, 4, 8, 6, 1]  # {"a": 12}
    before = masks_along(compiled, path)
    data = compiled.serialize_json()
    assert json.loads(data)["__VERSION__"] == "xgram-compiled-grammar/1"
    restored = xgram.CompiledGrammar.deserialize_json(data, info)
    assert restored.num_cached_states == compiled.num_cached_states > 0
    after = masks_along(restored, path)
    assert all((a == b).all() for a, b in zip(before, after))
    assert str(restored.grammar) == str(compiled.grammar)


def test_refuses_another_tokenizer_version_or_garbage() -> None:
    info = xgram.TokenizerInfo(VOCAB, stop_token_ids=[10])
    data = xgram.GrammarCompiler(info).compile_grammar('root ::= "a"+').serialize_json()
    other = xgram.TokenizerInfo(VOCAB[:-1] + [b"b"], stop_token_ids=[10])
    with pytest.raises(xgram.UsageError, match="different tokenizer"):
        xgram.CompiledGrammar.deserialize_json(data, other)
    obj = json.loads(data)
    obj["__VERSION__"] = "xgram-compiled-grammar/0"
    with pytest.raises(xgram.UsageError, match="version"):
        xgram.CompiledGrammar.deserialize_json(json.dumps(obj), info)
    with pytest.raises(xgram.UsageError, match="JSON"):
        xgram.CompiledGrammar.deserialize_json("{not json", info)
    obj = json.loads(data)
    del obj["grammar"]
    with pytest.raises(xgram.UsageError, match="grammar"):
        xgram.CompiledGrammar.deserialize_json(json.dumps(obj), info)


def test_corrupt_entries_raise_instead_of_crashing() -> None:
    import base64

    info = xgram.TokenizerInfo(VOCAB, stop_token_ids=[10])
    compiled = xgram.GrammarCompiler(info, precompute=True).compile_grammar('root ::= "a"+')
    obj = json.loads(compiled.serialize_json())
    blob = bytearray(base64.b64decode(obj["entries"]))
    blob[0:4] = (10**6).to_bytes(4, "little", signed=True)  # a state that does not exist
    obj["entries"] = base64.b64encode(bytes(blob)).decode()
    with pytest.raises(xgram.UsageError, match="state"):
        xgram.CompiledGrammar.deserialize_json(json.dumps(obj), info)
    obj["entries"] = base64.b64encode(bytes(blob[:6])).decode()
    with pytest.raises(xgram.UsageError):
        xgram.CompiledGrammar.deserialize_json(json.dumps(obj), info)
