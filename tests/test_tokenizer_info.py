"""TokenizerInfo: decoding of the three vocabulary types, metadata, padding, the trie."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import xgram

SHARED = Path(__file__).resolve().parents[2] / "shared" / "tokenizers"
NAMES = ["llama3", "qwen2.5", "gpt2", "deepseek-v3", "mistral-7b-v0.1", "llama2", "llama4"]
EXPECTED_TYPE = {
    "llama3": xgram.VocabType.BYTE_LEVEL,
    "qwen2.5": xgram.VocabType.BYTE_LEVEL,
    "gpt2": xgram.VocabType.BYTE_LEVEL,
    "deepseek-v3": xgram.VocabType.BYTE_LEVEL,
    "llama4": xgram.VocabType.BYTE_LEVEL,
    "mistral-7b-v0.1": xgram.VocabType.BYTE_FALLBACK,
    "llama2": xgram.VocabType.BYTE_FALLBACK,
}


def load(name: str):
    tokenizers = pytest.importorskip("tokenizers")
    path = SHARED / name / "tokenizer.json"
    if not path.exists():
        pytest.skip(f"{path} missing: 1 tokenizer case skipped")
    return tokenizers.Tokenizer.from_file(str(path))


@pytest.mark.parametrize("name", NAMES)
def test_decoding_matches_the_tokenizer(name: str) -> None:
    tok = load(name)
    info = xgram.TokenizerInfo.from_huggingface(tok)
    assert info.vocab_type == EXPECTED_TYPE[name]
    decoded = info.decoded_vocab
    special = set(info.special_token_ids)
    text = 'Hello, world! {"key": [1, 2.5, "naïve 😀 日本語"]}\n\tend  '
    ids = tok.encode(text, add_special_tokens=False).ids
    assert all(i not in special for i in ids)
    joined = b"".join(decoded[i] for i in ids)
    if info.vocab_type == xgram.VocabType.BYTE_FALLBACK:
        # SentencePiece adds a dummy prefix space to the first piece.
        assert joined.lstrip(b" ") == text.encode()
    else:
        assert joined == text.encode()
    assert info.stop_token_ids, "an end-of-text token must be detected"
    assert set(info.stop_token_ids) <= special


def test_byte_fallback_pieces_and_space_mark() -> None:
    vocab = ["<unk>", "<s>", "</s>", "<0x0A>", "<0xFF>", "▁hello", "wor▁ld", "▁"]
    info = xgram.TokenizerInfo(
        vocab, xgram.VocabType.BYTE_FALLBACK, stop_token_ids=[2], special_token_ids=[0, 1]
    )
    assert info.decoded_vocab[3:] == [b"\n", b"\xff", b" hello", b"wor ld", b" "]
    assert info.special_token_ids == [0, 1, 2]


def test_byte_level_table_round_trips_every_byte() -> None:
    # GPT-2 maps bytes to printable code points; build the table independently.
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(0x100 + extra)
            extra += 1
    vocab = [mapping[b] for b in range(256)] + ["".join(mapping[b] for b in "é!".encode())]
    info = xgram.TokenizerInfo(vocab, xgram.VocabType.BYTE_LEVEL)
    assert info.decoded_vocab[:256] == [bytes([b]) for b in range(256)]
    assert info.decoded_vocab[256] == "é!".encode()


def test_metadata_round_trip_and_padding() -> None:
    vocab = [b"a", b"b", b"ab", b"<eos>"]
    info = xgram.TokenizerInfo(vocab, vocab_size=40, stop_token_ids=[3])
    again = xgram.TokenizerInfo.from_vocab_and_metadata(vocab, info.dump_metadata())
    assert again.vocab_size == 40 and again.stop_token_ids == [3]
    assert again.special_token_ids == info.special_token_ids
    assert set(range(4, 40)) <= set(info.special_token_ids)  # padding ids
    compiled = xgram.GrammarCompiler(info).compile_grammar("root ::= [ab]+")
    matcher = xgram.GrammarMatcher(compiled)
    bm = np.zeros(xgram.get_bitmask_shape(1, 40), np.int32)
    matcher.fill_next_token_bitmask(bm)
    allowed = np.unpackbits(bm.view(np.uint8), bitorder="little")[:40]
    assert allowed.nonzero()[0].tolist() == [0, 1, 2]
    with pytest.raises(xgram.UsageError, match="out of range"):
        matcher.accept_token(40)
    assert not matcher.accept_token(39)  # padding is never accepted


def test_bad_arguments() -> None:
    with pytest.raises(xgram.UsageError, match="smaller"):
        xgram.TokenizerInfo([b"a", b"b"], vocab_size=1)
    with pytest.raises(xgram.UsageError, match="out of range"):
        xgram.TokenizerInfo([b"a"], stop_token_ids=[5])
    with pytest.raises(TypeError):
        xgram.TokenizerInfo.from_huggingface(object())


def test_true_prefix_trie_not_substring_trie() -> None:
    # XGrammar's pseudo-trie put `abaa` under `aa` (substring), so skipping the
    # subtree of a rejected `aa` also dropped `abaa`. A true trie must not.
    vocab = [bytes([c]) for c in range(0x20, 0x7F)] + [b"aa", b"abaa", b"baa"]
    info = xgram.TokenizerInfo(vocab)
    compiled = xgram.GrammarCompiler(info).compile_grammar('root ::= "ab" [a-z]*')
    matcher = xgram.GrammarMatcher(compiled)
    bm = np.zeros(xgram.get_bitmask_shape(1, info.vocab_size), np.int32)
    matcher.fill_next_token_bitmask(bm)
    allowed = set(np.unpackbits(bm.view(np.uint8), bitorder="little").nonzero()[0].tolist())
    abaa = vocab.index(b"abaa")
    assert abaa in allowed
    assert matcher.accept_token(abaa)
