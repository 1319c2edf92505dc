"""Regressions found by running every MaskBench schema token by token (issue 22, item 1).

``python benchmarks/maskbench.py --engines xgram --all --include-untested`` runs all
5,658 shared schemas; each wrong verdict it found that was xgram's fault is pinned here,
reduced to a small schema, and where ``../shared`` is present also replayed on the
corpus record itself with the Llama-3 tokenizer, token by token.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest

import xgram

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "schemas" / "jsonschemabench-maskbench"
LLAMA3 = SHARED / "tokenizers" / "llama3"
DRAFT4 = "http://json-schema.org/draft-04/schema#"
DRAFT6 = "http://json-schema.org/draft-06/schema#"
DRAFT7 = "http://json-schema.org/draft-07/schema#"


def _grammar(schema: Dict[str, Any]) -> xgram.Grammar:
    return xgram.Grammar.from_json_schema(schema, any_whitespace=True, strict_mode=False)


def _with_draft(schema: Dict[str, Any], draft: str) -> Dict[str, Any]:
    return {"$schema": draft, **schema}


# Github_medium---o3385, reduced: the items' `then` requires a pattern the valid
# instance breaks, but the document declares draft 4, which has no if/then.
ACTION_ITEMS = {
    "type": "array",
    "items": {
        "if": {"properties": {"type": {"const": "action"}}},
        "then": {"properties": {"shortcut": {"type": "string", "pattern": "^\\S+$"}}},
    },
}
ACTION = '[{"type":"action","shortcut":"Ctrl + A"}]'


def test_draft4_document_ignores_if_then_else() -> None:
    assert _grammar(_with_draft(ACTION_ITEMS, DRAFT4)).accepts(ACTION)
    assert _grammar(_with_draft(ACTION_ITEMS, DRAFT6)).accepts(ACTION)
    # Draft 7 defined if/then: there (and without $schema) the conditional holds.
    assert not _grammar(_with_draft(ACTION_ITEMS, DRAFT7)).accepts(ACTION)
    assert not _grammar(ACTION_ITEMS).accepts(ACTION)


def test_draft4_document_ignores_the_keywords_of_draft6() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"const": "a"},
            "tags": {"type": "array", "contains": {"const": "x"}},
            "map": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
        },
    }
    text = '{"kind":"b","tags":["y"],"map":{"A1":1}}'
    assert _grammar(_with_draft(schema, DRAFT4)).accepts(text)
    # Draft 6 has const, contains and propertyNames.
    assert not _grammar(_with_draft(schema, DRAFT6)).accepts(text)
    assert _grammar(_with_draft(schema, DRAFT6)).accepts('{"kind":"a","tags":["x"],"map":{"a":1}}')


def test_only_keywords_are_dropped_not_properties_of_that_name() -> None:
    schema = {
        "$schema": DRAFT4,
        "type": "object",
        "properties": {"if": {"type": "integer"}, "const": {"enum": ["k"]}},
        "additionalProperties": False,
        "definitions": {"then": {"type": "string"}},
    }
    g = _grammar(
        {**schema, "properties": {**schema["properties"], "ref": {"$ref": "#/definitions/then"}}}
    )
    assert g.accepts('{"if":1,"const":"k","ref":"s"}')
    assert not g.accepts('{"if":"x"}')
    assert not g.accepts('{"const":"z"}')
    assert not g.accepts('{"ref":2}')


def test_explain_calls_later_draft_keywords_unknown() -> None:
    explanation = xgram.explain_json_schema(_with_draft(ACTION_ITEMS, DRAFT4))
    status = {(r.pointer, r.keyword): r.status for r in explanation}
    assert status[("/items", "if")] == "unknown"
    assert status[("/items", "then")] == "unknown"
    assert ("/items/then/properties/shortcut", "pattern") not in status
    assert explanation.is_exact
    draft7 = {(r.pointer, r.keyword): r.status for r in xgram.explain_json_schema(ACTION_ITEMS)}
    assert draft7[("/items/then/properties/shortcut", "pattern")] == "exact"


def _record(subset: str, rec_id: str) -> Dict[str, Any]:
    with gzip.open(CORPUS / f"{subset}.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["id"] == rec_id:
                return rec
    raise AssertionError(f"{rec_id} not in {subset}")


@pytest.fixture(scope="module")
def llama3() -> Any:
    """The Llama-3 tokenizer and its xgram compiler, loaded once for the module."""
    if not (CORPUS.is_dir() and LLAMA3.is_dir()):
        pytest.skip("needs ../shared (the corpus and the Llama-3 tokenizer)")
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(str(LLAMA3))
    info = xgram.TokenizerInfo.from_huggingface(tok)
    return tok, info, xgram.GrammarCompiler(info, max_threads=1, cache_enabled=False)


@pytest.mark.parametrize("rec_id", ["Github_medium---o3385", "Github_medium---o39097"])
def test_corpus_records_token_by_token(rec_id: str, llama3: Any) -> None:
    """Every instance of the record gets its label, fed token by token as maskbench does."""
    tok, info, compiler = llama3
    rec = _record("Github_medium", rec_id)
    compiled = compiler.compile_json_schema(rec["schema"], any_whitespace=True, strict_mode=False)
    bitmask = xgram.allocate_token_bitmask(1, info.vocab_size)
    row = np.asarray(bitmask)[0]

    def allowed(token: int) -> bool:
        return bool((int(row[token >> 5]) >> (token & 31)) & 1)

    for k, test in enumerate(rec["tests"]):
        text = json.dumps(test["data"], separators=(",", ":"), ensure_ascii=False)
        matcher = xgram.GrammarMatcher(compiled)
        ok = True
        for token in tok.encode(text, add_special_tokens=False):
            matcher.fill_next_token_bitmask(bitmask)
            if not (allowed(token) and matcher.accept_token(token)):
                ok = False
                break
        if ok:
            matcher.fill_next_token_bitmask(bitmask)
            ok = allowed(int(tok.eos_token_id))
        assert ok == test["valid"], f"{rec_id} test #{k}"


def test_maskbench_classifies_refusals_and_memory_errors() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from maskbench_report import is_memory_error, refusal_cause

    cause = refusal_cause(
        "SchemaError: 'not' at /definitions/a/oneOf/0~0: 'not multipleOf 77' needs too many "
        "grammar states (lenient=True would ignore it)"
    )
    assert cause == "multipleOf / not multipleOf too large"  # not "oneOf" from the pointer
    assert refusal_cause("SchemaError: no JSON value satisfies this schema").startswith("unsat")
    assert refusal_cause("SchemaError: 'items' at /x: odd 12 things (y)") == (
        "other: SchemaError: 'items': odd N things"
    )
    assert is_memory_error({"compile_error": "MemoryError: std::bad_alloc"})
    assert is_memory_error({"instances": [{"exception": "MemoryError: "}]})
    assert not is_memory_error({"compile_error": "SchemaError: MemoryError"})
