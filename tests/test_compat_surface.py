"""The XGrammar drop-in (``python -m xgram.compat``): surface, import path, behaviour.

(a) every public name of XGrammar 0.2.9 exists in the drop-in with the same
kind and signature (pydantic models: same fields and JSON schema); (b) with
the printed directory first on ``PYTHONPATH``, ``import xgrammar`` is the
drop-in; (c) end to end with the Llama-3 tokenizer: JSON schema, regex and
EBNF compiled, bitmasks filled and applied to torch logits; (d) a schema xgram
refuses is compiled leniently with one warning. Plus the XGrammar behaviours
the drop-in maps by hand (errors, serialization, tokenizer defaults).

The drop-in is loaded in this process under another name
(``_names_table.load_drop_in``), next to the real ``xgrammar`` that other
tests import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pydantic")

import xgram  # noqa: E402
from xgram.compat import (  # noqa: E402
    NotSupportedByXgramError,
    XGrammarSchemaRelaxedWarning,
    _names_table,  # noqa: E402
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "tokenizers"

# Names whose description may differ from XGrammar's, with the reason.
ALLOWED_DIFFERENCES = {
    "xgrammar.kernels.apply_token_bitmask_inplace_triton:apply_token_bitmask_inplace_kernel": (
        "a Triton JIT kernel object of XGrammar's; the drop-in's Triton entry point applies "
        "xgram's kernel instead"
    ),
}


@pytest.fixture(scope="module")
def xgr():
    """The drop-in package."""
    return _names_table.load_drop_in()


@pytest.fixture(scope="module")
def real():
    """The real XGrammar 0.2.9."""
    pytest.importorskip("xgrammar")
    try:
        return _names_table.load_real_xgrammar()
    except ImportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def surfaces(real):
    """(XGrammar's surface, the drop-in's) as described by ``_names_table``."""
    return _names_table.read_both_surfaces()


def tokenizer(name):
    transformers = pytest.importorskip("transformers")
    if not (SHARED / name / "tokenizer.json").exists():
        pytest.skip("../shared/tokenizers not found")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return transformers.AutoTokenizer.from_pretrained(str(SHARED / name))


# ---------- (a) the surface ----------


def test_every_xgrammar_name_has_the_same_kind_and_signature(surfaces):
    xgrammar_surface, drop_in_surface = surfaces
    assert len(xgrammar_surface) > 200  # every module was read
    differences = _names_table.differences(xgrammar_surface, drop_in_surface)
    unexpected = {name: d for name, d in differences.items() if name not in ALLOWED_DIFFERENCES}
    assert not unexpected, json.dumps(unexpected, indent=1)[:6000]


def test_the_surface_reader_sees_signatures_and_fields(real):
    surface = _names_table.read_surface(
        ["xgrammar:GrammarMatcher.accept_token", "xgrammar.structural_tag:AnyTextFormat"]
    )
    accept = surface["xgrammar:GrammarMatcher.accept_token"]
    assert accept["kind"] == "function"
    assert ["debug_print", "KEYWORD_ONLY", "False"] in accept["signature"]
    any_text = surface["xgrammar.structural_tag:AnyTextFormat"]
    assert any_text["kind"] == "pydantic model"
    assert set(any_text["fields"]) == {"type", "excludes", "max_tokens", "max_chars"}


def test_exceptions_and_dtypes_are_xgrammars(xgr):
    for name in (
        "DeserializeFormatError",
        "DeserializeVersionError",
        "InvalidJSONError",
        "InvalidStructuralTagError",
    ):
        assert issubclass(getattr(xgr, name), RuntimeError)
    assert xgr.bitmask_dtype is torch.int32
    bitmask = xgr.allocate_token_bitmask(2, 70)
    assert bitmask.dtype == torch.int32 and bitmask.device.type == "cpu"
    assert tuple(bitmask.shape) == (2, 3) and bool((bitmask == -1).all())


def test_names_table_lists_every_name(surfaces):
    text = _names_table.markdown_table(*surfaces)
    assert "| `GrammarMatcher.accept_token` |" in text
    assert "**missing from the drop-in**" not in text
    assert "raises NotSupportedByXgramError: " in text  # e.g. XGrammar's grammar passes


# ---------- (b) the import path ----------


def test_python_m_xgram_compat_puts_the_drop_in_first():
    printed = subprocess.run(
        [sys.executable, "-m", "xgram.compat"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert os.path.isabs(printed) and os.path.isdir(os.path.join(printed, "xgrammar"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([printed, os.environ.get("PYTHONPATH", "")]))
    code = "import xgrammar; print(xgrammar.__file__); print(xgrammar.GrammarCompiler.__module__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert out[0] == os.path.join(printed, "xgrammar", "__init__.py")
    assert out[1] == "xgrammar.compiler"


# ---------- (c) end to end with a real tokenizer ----------


def allowed_ids(bitmask, vocab_size, row=0):
    bits = (bitmask[row].to(torch.int64).unsqueeze(-1) >> torch.arange(32)) & 1
    return set(torch.nonzero(bits.flatten()[:vocab_size]).flatten().tolist())


def run_generation(xgr, compiled, token_ids, eos):
    """Walk ``token_ids`` through a matcher: each must be allowed by the mask, then accepted."""
    info = compiled.tokenizer_info
    matcher = xgr.GrammarMatcher(compiled)
    bitmask = xgr.allocate_token_bitmask(1, info.vocab_size)
    for token in token_ids:
        matcher.fill_next_token_bitmask(bitmask)
        assert token in allowed_ids(bitmask, info.vocab_size)
        assert matcher.accept_token(token)
    matcher.fill_next_token_bitmask(bitmask)
    logits = torch.zeros(1, info.vocab_size, dtype=torch.bfloat16)
    xgr.apply_token_bitmask_inplace(logits, bitmask)
    finite = set(torch.nonzero(torch.isfinite(logits[0])).flatten().tolist())
    assert finite == allowed_ids(bitmask, info.vocab_size)
    assert matcher.accept_token(eos) and matcher.is_terminated()
    return finite


def test_llama3_json_schema_regex_and_ebnf(xgr):
    hf = tokenizer("llama3")
    info = xgr.TokenizerInfo.from_huggingface(hf)
    assert info.vocab_type == xgr.VocabType.BYTE_LEVEL
    assert info.stop_token_ids == [hf.eos_token_id]
    compiler = xgr.GrammarCompiler(info, max_threads=2)
    eos = hf.eos_token_id

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
        "required": ["city", "days"],
        "additionalProperties": False,
    }
    text = '{"city": "Paris", "days": 3}'
    compiled = compiler.compile_json_schema(schema, any_whitespace=False)
    assert run_generation(xgr, compiled, hf.encode(text, add_special_tokens=False), eos) == {eos}

    compiled = compiler.compile_regex(r"[0-9]{3}-[a-z]+")
    assert run_generation(xgr, compiled, hf.encode("123-abc", add_special_tokens=False), eos)

    compiled = compiler.compile_grammar('root ::= "yes" | "no" | "maybe later"')
    ids = hf.encode("maybe later", add_special_tokens=False)
    assert run_generation(xgr, compiled, ids, eos) == {eos}
    assert compiler.compile_builtin_json_grammar().tokenizer_info is info


def test_tokenizer_info_matches_xgrammar(xgr, real):
    hf = tokenizer("mistral-7b-v0.1")
    ours, theirs = xgr.TokenizerInfo.from_huggingface(hf), real.TokenizerInfo.from_huggingface(hf)
    assert ours.decoded_vocab == theirs.decoded_vocab
    assert ours.stop_token_ids == theirs.stop_token_ids
    assert ours.special_token_ids == theirs.special_token_ids
    assert ours.dump_metadata() == theirs.dump_metadata()
    ours = xgr.TokenizerInfo.from_huggingface(hf, vocab_size=32_005, stop_token_ids=[2, 1])
    theirs = real.TokenizerInfo.from_huggingface(hf, vocab_size=32_005, stop_token_ids=[2, 1])
    assert ours.vocab_size == theirs.vocab_size and ours.stop_token_ids == theirs.stop_token_ids
    assert ours.special_token_ids == theirs.special_token_ids


@pytest.mark.parametrize("vocab_type", ["RAW", "BYTE_FALLBACK", "BYTE_LEVEL"])
def test_tokenizer_info_constructor_matches_xgrammar(xgr, real, vocab_type):
    # vLLM builds Mistral tokenizers this way (RAW for tekken, else BYTE_FALLBACK).
    vocab = ["<unk>", "<s>", "</s>", "▁hello", "<0x0A>", "a", "", "<|eot_id|>", "ĠĊ", "<tool>"]
    ours = xgr.TokenizerInfo(vocab, getattr(xgr.VocabType, vocab_type), vocab_size=12)
    theirs = real.TokenizerInfo(vocab, getattr(real.VocabType, vocab_type), vocab_size=12)
    assert ours.decoded_vocab == theirs.decoded_vocab
    assert ours.stop_token_ids == theirs.stop_token_ids == [2, 7]
    assert ours.special_token_ids == theirs.special_token_ids
    assert ours.dump_metadata() == theirs.dump_metadata()
    explicit = xgr.TokenizerInfo(vocab, stop_token_ids=2, add_prefix_space=True)
    assert explicit.stop_token_ids == [2] and explicit.add_prefix_space


def test_builtin_json_grammar_is_an_object_or_array(xgr, real):
    accepts = xgr.testing._is_grammar_accept_string
    for text in ("{}", '[1, {"a": null}]', "1", '"s"', " {}", "{} ", "null"):
        grammar = xgr.Grammar.builtin_json_grammar()
        assert accepts(grammar, text) == real.testing._is_grammar_accept_string(
            real.Grammar.builtin_json_grammar(), text
        ), text


# ---------- (d) lenient JSON schemas ----------


def test_refused_schema_compiles_leniently_and_warns_once(xgr):
    schema = {"type": "array", "uniqueItems": True, "items": {"type": "string", "maxLength": 7}}
    with pytest.raises(xgram.SchemaError):
        xgram.Grammar.from_json_schema(schema)  # xgram's own API keeps refusing
    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo(["a", "b", "</s>"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = compiler.compile_json_schema(schema)
        grammar = xgr.Grammar.from_json_schema(json.dumps(schema))
        compiler.compile_json_schema(schema)
        xgr.Grammar.from_json_schema(schema)
    relaxed = [w for w in caught if issubclass(w.category, xgram.SchemaRelaxedWarning)]
    assert len(relaxed) == 1 and relaxed[0].category is XGrammarSchemaRelaxedWarning
    assert relaxed[0].filename == __file__
    assert any("uniqueItems" in item for item in relaxed[0].message.relaxations)
    for tested in (grammar, compiled.grammar):
        assert xgr.testing._is_grammar_accept_string(tested, '["a", "a"]')


def test_malformed_schema_still_fails(xgr):
    with pytest.raises(RuntimeError) as info:
        xgr.Grammar.from_json_schema({"type": "array", "minItems": "two"})
    assert isinstance(info.value, xgram.SchemaError)


# ---------- errors, serialization, structural tags ----------


def test_errors_are_runtime_errors_and_xgrams(xgr):
    with pytest.raises(RuntimeError) as info:
        xgr.Grammar.from_ebnf("root ::= (")
    assert isinstance(info.value, xgram.GrammarError) and isinstance(info.value, ValueError)
    assert info.value.line == 1 and "expected ')'" in str(info.value)


def test_accept_token_returns_false_where_xgram_raises(xgr, caplog):
    info = xgr.TokenizerInfo(["a", "b", "</s>", "ab", ""])
    matcher = xgr.GrammarMatcher(xgr.GrammarCompiler(info).compile_grammar('root ::= "ab"'))
    assert not matcher.accept_token(99)
    assert not matcher.accept_token(4)  # a special (empty) token
    assert matcher.accept_token(3) and matcher.accept_token(2) and matcher.is_terminated()
    assert not matcher.accept_token(0) and not matcher.accept_string("a")
    assert "out of range" in caplog.text
    with pytest.raises(RuntimeError):
        matcher.fill_next_token_bitmask(xgr.allocate_token_bitmask(1, 5))
    matcher.rollback(1)
    assert not matcher.is_terminated()
    with pytest.raises(RuntimeError):
        matcher.rollback(5)
    with pytest.warns(DeprecationWarning):
        xgr.GrammarMatcher(matcher_grammar(xgr, info), max_rollback_tokens=2)


def matcher_grammar(xgr, info):
    return xgr.GrammarCompiler(info).compile_regex("a+")


def test_serialization_round_trips_and_refuses_xgrammars_data(xgr, real):
    info = xgr.TokenizerInfo([b"a", "b", "</s>", b"\xff"], vocab_size=6)
    grammar = xgr.Grammar.from_ebnf('root ::= "a" rest\nrest ::= "b"*')
    assert str(xgr.Grammar.deserialize_json(grammar.serialize_json())) == str(grammar)
    restored = xgr.TokenizerInfo.deserialize_json(info.serialize_json())
    assert restored.decoded_vocab == info.decoded_vocab
    assert restored.dump_metadata() == info.dump_metadata()
    compiled = xgr.GrammarCompiler(info).compile_grammar(grammar)
    again = xgr.CompiledGrammar.deserialize_json(compiled.serialize_json(), info)
    assert str(again.grammar) == str(compiled.grammar)
    assert json.loads(compiled.serialize_json())["__VERSION__"] == xgr.get_serialization_version()
    with pytest.raises(xgr.DeserializeVersionError):
        xgr.Grammar.deserialize_json(real.Grammar.from_ebnf('root ::= "a"').serialize_json())
    with pytest.raises(xgr.InvalidJSONError):
        xgr.TokenizerInfo.deserialize_json("{not json")
    other = xgr.TokenizerInfo(["x", "y"])
    with pytest.raises(xgr.DeserializeFormatError):
        xgr.CompiledGrammar.deserialize_json(compiled.serialize_json(), other)
    rebuilt = xgr.TokenizerInfo.from_vocab_and_metadata(
        [b"a", "b", "</s>", b"\xff"], info.dump_metadata()
    )
    assert rebuilt.stop_token_ids == info.stop_token_ids == [2]


def test_structural_tag_models_dump_as_xgrammars(xgr, real):
    spec = {
        "type": "structural_tag",
        "format": {
            "type": "triggered_tags",
            "triggers": ["<f="],
            "tags": [
                {
                    "begin": "<f=a>",
                    "content": {"type": "json_schema", "json_schema": {"type": "integer"}},
                    "end": ["</f>", "</g>"],
                }
            ],
            "excludes": ["<bad>"],
        },
    }
    ours, theirs = xgr.StructuralTag.from_json(spec), real.StructuralTag.from_json(json.dumps(spec))
    assert ours.model_dump() == theirs.model_dump()
    legacy = [xgr.StructuralTagItem(begin="<f=a>", schema='{"type": "integer"}', end="</f>")]
    legacy_real = [real.StructuralTagItem(begin="<f=a>", schema='{"type": "integer"}', end="</f>")]
    assert (
        xgr.StructuralTag.from_legacy_structural_tag(legacy, ["<f="]).model_dump()
        == real.StructuralTag.from_legacy_structural_tag(legacy_real, ["<f="]).model_dump()
    )
    with pytest.raises(ValueError):
        xgr.structural_tag.AnyTextFormat(max_tokens=-1)


def test_structural_tags_compile_in_every_call_form(xgr):
    accepts = xgr.testing._is_grammar_accept_string
    text = "hello <f=a>42</f> bye"
    tag = xgr.StructuralTag(
        format=xgr.structural_tag.TriggeredTagsFormat(
            triggers=["<f="],
            tags=[
                xgr.structural_tag.TagFormat(
                    begin="<f=a>",
                    content=xgr.structural_tag.JSONSchemaFormat(json_schema={"type": "integer"}),
                    end="</f>",
                )
            ],
        )
    )
    items = [xgr.StructuralTagItem(begin="<f=a>", schema={"type": "integer"}, end="</f>")]
    for grammar in (
        xgr.Grammar.from_structural_tag(tag),
        xgr.Grammar.from_structural_tag(tag.model_dump_json()),
        xgr.Grammar.from_structural_tag(structural_tag=tag.model_dump()),
        xgr.Grammar.from_structural_tag(items, ["<f="]),
        xgr.Grammar.from_structural_tag(tags=items, triggers=["<f="]),
    ):
        assert accepts(grammar, text) and not accepts(grammar, 'x <f=a>"s"</f>')
    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo(["h", "<f=a>", "4", "</f>", "</s>"]))
    assert compiler.compile_structural_tag(items, ["<f="]).tokenizer_info is not None
    with pytest.raises(xgr.InvalidJSONError):
        xgr.Grammar.from_structural_tag("{not json")
    with pytest.raises(xgr.InvalidStructuralTagError):
        xgr.Grammar.from_structural_tag({"type": "structural_tag", "format": {"type": "nope"}})
    with pytest.raises(NotSupportedByXgramError, match="exclude_token"):
        xgr.Grammar.from_structural_tag(
            {"type": "structural_tag", "format": {"type": "exclude_token", "exclude_tokens": [3]}}
        )
    with pytest.raises(TypeError):
        xgr.Grammar.from_structural_tag(1, 2, 3)


def test_tool_calling_returns_xgrammars_models(xgr, real):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    ours = xgr.get_model_structural_tag("qwen_3", tools, "required", reasoning="disabled")
    theirs = real.get_model_structural_tag("qwen_3", tools, "required", reasoning="disabled")
    assert isinstance(ours, xgr.StructuralTag) and ours.model_dump() == theirs.model_dump()
    functions, builtins, choice = xgr.normalize_tool_choice(
        tools, {"type": "function", "function": {"name": "f"}}
    )
    assert isinstance(functions[0], xgr.openai_tool_call_schema.FunctionToolParam)
    assert (builtins, choice) == ([], "forced")
    direct = xgr.builtin_structural_tag.get_llama_structural_tag(functions, builtins, choice)
    assert (
        direct.model_dump()
        == real.builtin_structural_tag.get_llama_structural_tag(
            *real.normalize_tool_choice(tools, {"type": "function", "function": {"name": "f"}})
        ).model_dump()
    )

    @xgr.register_model_structural_tag("compat_test_model")
    def template(function_tools, builtin_tools, tool_choice, reasoning, **options):
        names = [tool.function.name for tool in function_tools]  # pydantic models, as XGrammar
        return xgr.StructuralTag(format=xgr.structural_tag.ConstStringFormat(value=",".join(names)))

    try:
        made = xgr.get_model_structural_tag("compat_test_model", tools)
        assert made.format.value == "f"
        with pytest.raises(ValueError):
            xgr.get_model_structural_tag("no_such_model")
    finally:  # the registry is process-wide: leave it as other tests expect it
        from xgram.tool_calling import _api

        _api._builders.pop("compat_test_model", None)


# ---------- testing helpers, kernels, hf ----------


def test_testing_helpers_match_xgrammars(xgr, real):
    generator = torch.Generator().manual_seed(0)
    bool_mask = torch.rand(3, 70, generator=generator) > 0.5
    bitmask = xgr.testing.bool_mask_to_bitmask(bool_mask)
    assert torch.equal(bitmask, real.testing.bool_mask_to_bitmask(bool_mask))
    assert torch.equal(xgr.testing.bitmask_to_bool_mask(bitmask, 70), bool_mask)
    for row in range(3):
        assert xgr.testing._get_masked_tokens_from_bitmask(
            bitmask, 70, row
        ) == real.testing._get_masked_tokens_from_bitmask(bitmask, 70, row)
    single = xgr.testing.bool_mask_to_bitmask(torch.arange(40).unsqueeze(0) == 33)
    assert xgr.testing._is_single_token_bitmask(single, 40) == (True, 33)
    assert xgr.testing._regex_to_ebnf("[a-c]+x", False) == '[a-c]+ "x"'
    assert "root ::=" in xgr.testing._json_schema_to_ebnf({"type": "integer"})
    raw = xgr.testing._ebnf_to_grammar_no_normalization('root ::= a\na ::= "x"')
    assert str(raw).count("::=") == 2
    with pytest.raises(NotSupportedByXgramError):
        xgr.testing._generate_range_regex(1, 5)
    with pytest.raises(NotSupportedByXgramError):
        xgr.testing.GrammarFunctor.rule_inliner(raw)


def test_kernel_modules_and_backends_apply_xgrams_kernel(xgr):
    from importlib import import_module

    logits = torch.zeros(2, 40)
    bitmask = xgr.testing.bool_mask_to_bitmask(torch.arange(40).repeat(2, 1) % 3 == 0)
    expected = torch.where(torch.arange(40) % 3 == 0, 0.0, float("-inf")).repeat(2, 1)
    for backend in ("auto", "cpu", "torch_native"):
        masked = logits.clone()
        xgr.apply_token_bitmask_inplace(masked, bitmask, backend=backend)
        assert torch.equal(masked, expected)
    kernel = import_module(f"{_names_table.DROP_IN_ALIAS}.kernels.apply_token_bitmask_inplace_cpu")
    masked = logits.clone()
    kernel.apply_token_bitmask_inplace_cpu(masked, bitmask, indices=[1])
    assert torch.equal(masked[1], expected[1]) and bool((masked[0] == 0).all())
    with pytest.raises(ValueError):
        xgr.apply_token_bitmask_inplace(logits, bitmask, backend="metal")


def test_hf_logits_processor_takes_drop_in_grammars(xgr):
    pytest.importorskip("transformers")
    info = xgr.TokenizerInfo(["a", "b", "</s>"])
    compiled = xgr.GrammarCompiler(info).compile_grammar('root ::= "ab"')
    processor = xgr.hf.LogitsProcessor([compiled])
    scores = processor(torch.tensor([[7, 7]]), torch.zeros(1, 3))
    assert torch.isfinite(scores[0]).tolist() == [True, False, False]
    scores = processor(torch.tensor([[7, 7, 0]]), torch.zeros(1, 3))
    assert torch.isfinite(scores[0]).tolist() == [False, True, False]


def test_config_names(xgr):
    depth = xgr.get_max_recursion_depth()
    with xgr.max_recursion_depth(123):
        assert xgr.get_max_recursion_depth() == 123
    assert xgr.get_max_recursion_depth() == depth
    with pytest.raises(ValueError):
        xgr.set_max_recursion_depth(0)
