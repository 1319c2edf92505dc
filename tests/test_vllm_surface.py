"""Smoke test of the drop-in on the exact `xgrammar` surface vLLM 0.32 uses.

The real proof runs vLLM itself (`benchmarks/vllm_dropin.py`, `benchmarks/vllm_serve_check.py`,
too heavy for the default suite). This replays, in a fresh process with the drop-in first on
`PYTHONPATH`, the imports vLLM makes when it is imported and the calls its structured-output
backend makes per request (`../shared/research/vllm-xgrammar-surface.md`), so a change that
would break vLLM's import or request path fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LLAMA3 = Path(__file__).resolve().parents[2] / "shared" / "tokenizers" / "llama3"

SCRIPT = textwrap.dedent(
    r"""
    import json, os, sys
    os.environ["HF_HUB_OFFLINE"] = "1"
    import xgrammar as xgr
    assert "compat" in xgr.__file__, xgr.__file__
    # 1. import time (vllm/parser, vllm/tool_parsers, backend_xgrammar's dataclass annotations)
    from xgrammar import Grammar, StructuralTag, normalize_tool_choice, get_model_structural_tag
    from xgrammar.structural_tag import (AnyTextFormat, ConstStringFormat, Format, GrammarFormat,
        JSONSchemaFormat, OptionalFormat, OrFormat, PlusFormat, RegexFormat, SequenceFormat,
        StarFormat, TagFormat, TagsWithSeparatorFormat, TokenTriggeredTagsFormat,
        TriggeredTagsFormat)
    from xgrammar.openai_tool_call_schema import BuiltinToolParam, FunctionToolParam
    _ANY = AnyTextFormat()
    xgr.GrammarMatcher, xgr.CompiledGrammar
    # 2. request validation
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    Grammar.from_regex(r"\d{3}-[a-z]+")
    Grammar.from_ebnf('root ::= "yes" | "no"')
    Grammar.from_json_schema(schema)
    Grammar.from_lark('start: "a" NUMBER\n%import common.NUMBER')
    item = xgr.StructuralTagItem(begin="<f>", schema=json.dumps(schema), end="</f>")
    Grammar.from_structural_tag([item], ["<f>"])
    tag = StructuralTag(format=TriggeredTagsFormat(triggers=["<f"], tags=[
        TagFormat(begin="<f>", content=JSONSchemaFormat(json_schema=schema), end="</f>")]))
    Grammar.from_structural_tag(json.dumps(tag.model_dump()))
    str(Grammar.from_json_schema(json.dumps(schema)))
    tools = [{"type": "function", "function": {"name": "get", "parameters": schema}}]
    fn, builtin, choice = normalize_tool_choice(tools, "required")
    tool_tag = get_model_structural_tag(model="qwen_3", tools=tools, tool_choice="required",
                                        reasoning=False)
    # 3. engine core
    import transformers
    tok = transformers.AutoTokenizer.from_pretrained(sys.argv[1])
    info = xgr.TokenizerInfo.from_huggingface(tok, vocab_size=len(tok))
    compiler = xgr.GrammarCompiler(info, max_threads=8, cache_enabled=True,
                                   cache_limit_bytes=512 * 2**20)
    compiled = [
        compiler.compile_json_schema(json.dumps(schema), any_whitespace=True, separators=None),
        compiler.compile_json_schema('{"type": "object"}', any_whitespace=False,
                                     separators=(",", ":")),
        compiler.compile_grammar('root ::= "yes" | "no"'),
        compiler.compile_regex(r"[0-9]{2}"),
        compiler.compile_lark('start: "a"+'),
        compiler.compile_structural_tag([item], ["<f>"]),
        compiler.compile_structural_tag(json.dumps(tool_tag.model_dump())),
    ]
    outputs = ['{"city": "Oslo"}', '{}', 'yes', '42', 'aaa', 'x <f>{"city": "Rome"}</f>',
               '<tool_call>\n{"name": "get", "arguments": {"city": "Rome"}}\n</tool_call>']
    bitmask = xgr.allocate_token_bitmask(len(compiled), info.vocab_size)
    import torch
    assert bitmask.dtype == torch.int32 and bitmask.device.type == "cpu"
    eos = tok.eos_token_id
    for row, (grammar, text) in enumerate(zip(compiled, outputs)):
        matcher = xgr.GrammarMatcher(grammar, override_stop_tokens=[eos], max_rollback_tokens=4)
        for token in tok.encode(text, add_special_tokens=False):
            bitmask[row].fill_(-1)
            matcher.fill_next_token_bitmask(bitmask, row)
            allowed = bitmask.numpy()[row]
            assert (int(allowed[token // 32]) >> (token % 32)) & 1, (row, text, token)
            assert matcher.accept_token(token), (row, text, token)
            assert not matcher.is_terminated()
        matcher.fill_next_token_bitmask(bitmask, row)
        assert (int(bitmask.numpy()[row][eos // 32]) >> (eos % 32)) & 1, (row, "eos")
        matcher.rollback(1)
        matcher.reset()
    # 4. worker: fp32 logits, indices as a list
    logits = torch.zeros(len(compiled), info.vocab_size, dtype=torch.float32)
    xgr.apply_token_bitmask_inplace(logits, bitmask, indices=list(range(len(compiled))))
    assert torch.isinf(logits).any()
    print("vLLM surface OK")
    """
)


def test_vllm_surface_through_the_drop_in(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("pydantic")
    if not LLAMA3.exists():
        pytest.skip("../shared/tokenizers/llama3 not found")
    site = subprocess.run(
        [sys.executable, "-m", "xgram.compat"], capture_output=True, text=True, check=True
    ).stdout.strip()
    script = tmp_path / "vllm_surface.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([site, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, str(script), str(LLAMA3)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "vLLM surface OK" in result.stdout
