"""A small, fast sample of the XGrammar differential (benchmarks/differential_xgrammar.py).

Both sides run in this process: the real ``xgrammar`` 0.2.9 and xgram's own API with the
options the drop-in uses (``special_tokens_as_text=True``, serving defaults, ``lenient=True``
after a ``SchemaError``). The full run (``python benchmarks/differential_xgrammar.py``) puts
each side in a worker, and there xgram's side goes through ``xgram/compat``, whose
``import xgrammar`` cannot live next to the real one in one process.

What must hold on the sample: both sides compile every case; every string and mask
disagreement is explained, i.e. none is ``xgram_wrong`` (the oracle sides with XGrammar) and
none is ``unresolved``; and the harness does see XGrammar's known deviations (so a silent
harness cannot pass).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("xgrammar")
pytest.importorskip("transformers")
pytest.importorskip("hypothesis")
pytest.importorskip("jsonschema")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import differential_xgrammar as diff  # noqa: E402
from differential_xgrammar_classify import (  # noqa: E402
    BY_DESIGN,
    UNRESOLVED,
    XGRAM_WRONG,
    XGRAMMAR_INEXACT,
)
from differential_xgrammar_inputs import (  # noqa: E402
    SCHEMA_DIR,
    TOKENIZER_DIR,
    ebnf_cases,
    maskbench_sample,
    regex_cases,
)
from differential_xgrammar_tags import model_template_cases, structural_tag_cases  # noqa: E402

SAMPLE_TAGS = ("schema_weather", "grammar", "any_text_excl", "repeat", "tag_ends")
SAMPLE_TAGS += ("triggered", "tags_sep_least_one", "dispatch_loop")
SAMPLE_SETTINGS = diff.Settings(
    budget_s=120.0,  # in one process nothing can be killed; the budget only truncates walks
    regex_examples=8,
    samples_per_side=2,
    mutations=1,
    max_strings=40,
    max_walks=3,
    max_analyses=4,
)


def sample_cases():
    schemas = maskbench_sample(6, seed=1)
    regexes = regex_cases()[::6]
    grammars = [c for c in ebnf_cases() if c["id"] in ("arithmetic", "list")]
    tags = [c for c in structural_tag_cases() if c["id"] in SAMPLE_TAGS]
    templates = model_template_cases(["llama"])
    return schemas + regexes + grammars + tags + templates


@pytest.fixture(scope="module")
def runner():
    if not (TOKENIZER_DIR / "tokenizer.json").exists() or not SCHEMA_DIR.is_dir():
        pytest.skip(
            "../shared/tokenizers not found: the XGrammar differential sample "
            "(6 schemas, 9 regexes, 2 EBNF grammars, 8 structural tags, 2 templates) did not run"
        )
    tokenizer = diff.load_hf_tokenizer(str(TOKENIZER_DIR))
    return diff.Differential(diff.local_sides(tokenizer), tokenizer, SAMPLE_SETTINGS)


@pytest.fixture(scope="module")
def results(runner):
    return [runner.run_case(case) for case in sample_cases()]


def _explain(results, verdicts):
    lines = []
    for r in results:
        for d in r.disagreements:
            if d["verdict"] in verdicts:
                text = d.get("text") or d.get("walk")
                lines.append(f"{r.family}/{r.id}: {d['verdict']}: {d['reason']} on {text!r:.200}")
    return "\n".join(lines)


def test_every_sample_case_compiles_on_both_sides(results):
    assert {r.status for r in results} == {"compared"}, [
        (r.id, r.status, r.detail) for r in results if r.status != "compared"
    ]
    assert all(r.strings > 0 and r.masks > 0 for r in results)
    assert sum(r.masks for r in results) > 1000


def test_no_disagreement_is_xgrams_fault_or_unexplained(results):
    bad = _explain(results, (XGRAM_WRONG, UNRESOLVED))
    assert not bad, bad


def _both_sides(runner, kind, source, text):
    """(xgram accepts, XGrammar accepts) ``text``: the real answers behind a planted case."""
    answers = []
    for side in (runner.xgram, runner.xgrammar):
        assert side.engine.compile(kind, source)["ok"]
        answers.append(side.engine.accepts_one(text))
    return tuple(answers)


# Each: schema, text, (xgram, XGrammar) answers, verdict, the reason's start. Found by the
# full run; the answers are checked on both engines, then the classifier must name why.
PLANTED_JSON = {
    # XGrammar ignores `properties` beside oneOf: the object strict_mode closes is open there.
    "properties beside oneOf": (
        {
            "type": "object",
            "properties": {"a": {"type": "object", "properties": {"x": {"type": "integer"}}}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
        },
        '{"a": {"x": 1, "extra": 2}}',
        (False, True),
        XGRAMMAR_INEXACT,
        "strict_mode: XGrammar ignores the keywords beside",
    ),
    # Draft 4's integer has no exponent; xgram reads every schema as draft 2020-12 (the
    # oracle reads a root draft-04 integer exactly too; a nested `$schema` it does not).
    "draft-04 integer": (
        {
            "properties": {
                "id": {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}
            }
        },
        '{"id": 4.0E5}',
        (True, False),
        BY_DESIGN,
        "xgram reads draft 2020-12 semantics",
    ),
}


@pytest.mark.parametrize("name", sorted(PLANTED_JSON))
def test_a_planted_json_disagreement_gets_its_reason(runner, name):
    schema, text, answers, verdict, reason = PLANTED_JSON[name]
    assert _both_sides(runner, "json_schema", schema, text) == answers
    case = {"family": "json_schema", "id": name, "kind": "json_schema", "source": schema}
    got, why, _ = runner._classify(case, text, *answers, {})
    assert (got, why[: len(reason)]) == (verdict, reason), why


def test_xml_styled_arguments_are_parsed_back_and_checked(runner):
    schema = {"type": "object", "properties": {"q": {"type": "string", "maxLength": 5}}}
    content = {"type": "json_schema", "json_schema": schema, "style": "qwen_xml"}
    tag = {"type": "tag", "begin": "<f>", "content": content, "end": "</f>"}
    source = {"type": "structural_tag", "format": tag}
    case = {"family": "structural_tag", "id": "xml", "kind": "structural_tag", "source": source}
    too_long = "<f><parameter=q>abcdef</parameter></f>"
    answers = _both_sides(runner, "structural_tag", source, too_long)
    assert answers[0] is False  # xgram holds maxLength in a raw value
    if answers[1]:  # XGrammar 0.2.9 lets a length-bounded raw string run on
        verdict, reason, oracle = runner._classify(case, too_long, *answers, {})
        assert (verdict, reason) == (
            XGRAMMAR_INEXACT,
            "in qwen_xml-styled tool arguments: XGrammar admits what this forbids: maxLength",
        )
        assert oracle["as_json"] == '{"q": "abcdef"}'


# strict_mode closes only objects that declare members, as XGrammar does: {"type": "object"}
# (vLLM's JSON mode) and objects under {} stay open.
@pytest.mark.parametrize("schema", [{"type": "object"}, {}, {"type": "object", "title": "t"}])
def test_strict_mode_leaves_a_bare_object_open_as_xgrammar_does(runner, schema):
    text = '{"key": "value"}'
    for side in (runner.xgram, runner.xgrammar):
        assert side.engine.compile("json_schema", schema)["ok"]
    assert runner.xgrammar.engine.accepts_one(text)
    assert runner.xgram.engine.accepts_one(text)


def test_the_harness_sees_xgrammars_known_deviations(results):
    reasons = {d["reason"] for r in results for d in r.disagreements}
    verdicts = {d["verdict"] for r in results for d in r.disagreements}
    assert {XGRAMMAR_INEXACT, BY_DESIGN} <= verdicts
    # XGrammar caps no whitespace run; xgram caps them at 64 by default.
    assert any("whitespace run > 64" in why for why in reasons), reasons


def test_a_planted_deviation_is_classified(runner):
    # ECMA-262's "." matches no line terminator; XGrammar's matches any character.
    case = {"family": "regex", "id": "dot", "kind": "regex", "source": "a.{0,3}b"}
    verdict, reason, _ = runner._classify(case, "a\nb", False, True, {})
    assert (verdict, reason.split(" (")[0]) == (
        XGRAMMAR_INEXACT,
        "XGrammar's '.' matches line terminators",
    )
    verdict, reason, _ = runner._classify(case, "a\nb", True, False, {})
    assert verdict == XGRAM_WRONG


def test_hoisted_acceptance_matches_xgrammar_testing(runner):
    # The XGrammar side compiles once per grammar and runs the body of
    # xgrammar.testing._is_grammar_accept_string per string; check it answers the same.
    from xgrammar.testing import _is_grammar_accept_string

    engine = runner.xgrammar.engine
    assert engine.compile("regex", r"[a-c]+(-\d{1,2})?")["ok"]
    for text in ("abc", "abc-12", "abc-", "", "d", "a-123"):
        assert engine.accepts_one(text) == _is_grammar_accept_string(engine.grammar, text)
