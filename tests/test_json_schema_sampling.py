"""Soundness of the JSON Schema grammars by sampling, with jsonschema as the oracle.

Random schemas are drawn (hypothesis, derandomised) from the supported keywords:
types, enum/const, string lengths, simple patterns, formats, numeric bounds with
integers and decimals, multipleOf, objects, arrays, anyOf, allOf, nested up to
depth 3, under random layout options. For each schema that converts:

* **generation is sound**: random walks under the grammar produce JSON texts, and
  every one must be valid for ``jsonschema.Draft202012Validator`` with its format
  checker. The walks are character-level: a vocabulary of single characters
  (printable ASCII, whitespace, a few non-ASCII ones) is compiled with the grammar,
  and each step picks a random allowed character from the matcher's token mask,
  leaning towards closing quotes/brackets and stopping as the text grows. With
  ``../shared/tokenizers`` present the same is done with llama3's real vocabulary.
* **valid instances are accepted**: instances built from the schema and confirmed
  valid by jsonschema, serialised with ``json.dumps`` in the layout asked for,
  must be accepted, except for documented over-strictness (properties out of
  schema order, exponent spellings, ``\\u`` escapes), which the builder avoids.

Conversion errors (``SchemaError``) are allowed but counted; their rate must stay
low. Numbers are checked exactly: JSON numbers are read as ``Decimal`` and
``integer`` accepts integral decimals (``1.0``), as the specification says.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import os
import random
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import xgram

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schema_oracle import exact_validator, no_constants  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_TOKENIZERS = Path(
    os.environ.get("XGRAM_SHARED_TOKENIZERS", REPO.parent / "shared" / "tokenizers")
)
SHARED_SKIP_REASON = (
    f"real-tokenizer mask test skipped: ../shared/tokenizers not found ({SHARED_TOKENIZERS})"
)

MAX_ERROR_RATE = 0.30
SETTINGS = dict(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# --------------------------------------------------------------------------
# Oracle
# --------------------------------------------------------------------------


Oracle = exact_validator(Draft202012Validator)


class DuplicateKeys(ValueError):
    pass


def _pairs(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise DuplicateKeys(pairs)
    return out


def _decimal(text: str) -> Decimal:
    """A JSON number as a Decimal; exponents are clamped to +-10**4.

    The grammar offers exponents only where the sign, zero-ness and integrality of
    the value decide (bounds at zero, no multipleOf), and clamping keeps all three,
    while Decimal cannot hold 9e3867740188926768466199 nor take 5e100000 % 0.5.
    """
    mantissa, _, exponent = text.lower().partition("e")
    if not exponent:
        return Decimal(text)
    clamped = max(-(10**4), min(10**4, int(exponent)))
    return Decimal(f"{mantissa}e{clamped}")


def parse(text: str) -> Any:
    """Strict JSON, numbers as Decimal; DuplicateKeys for repeated object keys."""
    return json.loads(
        text, parse_float=_decimal, parse_constant=no_constants, object_pairs_hook=_pairs
    )


def oracle_errors(schema: Any, instance: Any) -> List[str]:
    exact = json.loads(json.dumps(schema), parse_float=Decimal)
    with decimal.localcontext() as ctx:
        ctx.prec = 30_000
        validator = Oracle(exact, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


# --------------------------------------------------------------------------
# Random schemas
# --------------------------------------------------------------------------

NAMES = ["a", "b", "id", "x_1", "name"]
# (pattern, strategy for strings that contain a match); no "." and no bare "$" on
# free text, where Python's re and ECMA-262 differ
FREE = st.text(alphabet="abcxyzAB09 -_é日", max_size=4)
PATTERNS = {
    "^[a-c]{1,3}$": st.from_regex(r"[a-c]{1,3}", fullmatch=True),
    "^x[0-9]+$": st.from_regex(r"x[0-9]{1,4}", fullmatch=True),
    "^[A-Z][a-z]*$": st.from_regex(r"[A-Z][a-z]{0,5}", fullmatch=True),
    "ab": st.tuples(FREE, FREE).map(lambda t: t[0] + "ab" + t[1]),
    "[0-9]{2}": st.tuples(FREE, FREE).map(lambda t: t[0] + "42" + t[1]),
    "^(foo|bar)-[0-9]": st.tuples(st.sampled_from(["foo", "bar"]), FREE).map(
        lambda t: t[0] + "-7" + t[1]
    ),
}
FORMATS = {
    "date": st.dates(min_value=datetime.date(1, 1, 1)).map(lambda d: d.isoformat()),
    "uuid": st.uuids().map(str),
    "ipv4": st.ip_addresses(v=4).map(str),
    "email": st.from_regex(r"[a-z]{1,6}(\.[a-z]{1,4})?@[a-z]{1,8}\.(com|org|io)", fullmatch=True),
}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-50, 50),
    st.sampled_from([0.5, -1.25, 2.75, 1.0]),
    st.text(alphabet='abé"\\\n/', max_size=3),
)
INT_BOUNDS = st.one_of(st.integers(-100, 100), st.sampled_from([2**64, -(2**64) - 3, 0.5, -2.5]))
NUM_BOUNDS = st.one_of(st.integers(-100, 100), st.sampled_from([0.25, -1.5, 2.125, 0, 0.1]))


def _canon(v: Any) -> Any:
    return (
        json.dumps(v, sort_keys=True)
        if not isinstance(v, (int, float)) or isinstance(v, bool)
        else Decimal(repr(v)).normalize()
    )


@st.composite
def string_schemas(draw: Any) -> Dict[str, Any]:
    s: Dict[str, Any] = {"type": "string"}
    kind = draw(st.sampled_from(["plain", "lengths", "pattern", "pattern+len", "format"]))
    if kind in ("lengths", "pattern+len"):
        lo = draw(st.integers(0, 3))
        if draw(st.booleans()):
            s["minLength"] = lo
        if draw(st.booleans()):
            s["maxLength"] = lo + draw(st.integers(0, 5))
    if kind.startswith("pattern"):
        s["pattern"] = draw(st.sampled_from(sorted(PATTERNS)))
    if kind == "format":
        s["format"] = draw(st.sampled_from(sorted(FORMATS)))
    return s


def _bounds(draw: Any, s: Dict[str, Any], values: Any) -> None:
    lo = draw(st.one_of(st.none(), values))
    hi = draw(st.one_of(st.none(), values))
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    if lo is not None:
        s["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = lo
    if hi is not None:
        s["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = hi


@st.composite
def integer_schemas(draw: Any) -> Dict[str, Any]:
    s: Dict[str, Any] = {"type": "integer"}
    _bounds(draw, s, INT_BOUNDS)
    if draw(st.booleans()):
        s["multipleOf"] = draw(st.sampled_from([2, 3, 5, 10, 0.5]))
    return s


@st.composite
def number_schemas(draw: Any) -> Dict[str, Any]:
    s: Dict[str, Any] = {"type": "number"}
    _bounds(draw, s, NUM_BOUNDS)
    if draw(st.booleans()):
        s["multipleOf"] = draw(st.sampled_from([0.5, 0.25, 0.01, 0.1, 3]))
    return s


def leaf_schemas() -> Any:
    return st.one_of(
        st.just({"type": "null"}),
        st.just({"type": "boolean"}),
        st.lists(SCALARS, min_size=1, max_size=4, unique_by=_canon).map(lambda v: {"enum": v}),
        SCALARS.map(lambda v: {"const": v}),
        string_schemas(),
        integer_schemas(),
        number_schemas(),
        st.just({"type": ["string", "null"], "maxLength": 2}),
        # negations
        st.lists(st.text(alphabet="ab", max_size=2), min_size=1, max_size=3, unique=True).map(
            lambda v: {"type": "string", "maxLength": 3, "not": {"enum": v}}
        ),
        st.integers(-3, 3).map(
            lambda k: {"type": "integer", "minimum": -5, "maximum": 5, "not": {"const": k}}
        ),
        st.sampled_from(["string", "null", "boolean", "array", "object"]).map(
            lambda t: {"not": {"type": t}}
        ),
        st.integers(0, 3).map(lambda k: {"type": "string", "not": {"minLength": k}}),
    )


@st.composite
def object_schemas(draw: Any, child: Any) -> Dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=3, unique=True))
    s: Dict[str, Any] = {"type": "object", "properties": {n: draw(child) for n in names}}
    if names:
        s["required"] = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    extra = draw(st.sampled_from(["absent", "false", "true", "schema"]))
    if extra == "false":
        s["additionalProperties"] = False
    elif extra == "true":
        s["additionalProperties"] = True
    elif extra == "schema":
        s["additionalProperties"] = draw(child)
    if draw(st.integers(0, 4)) == 0:
        s["minProperties"] = draw(st.integers(0, 2))
        s["maxProperties"] = s["minProperties"] + draw(st.integers(0, 3))
    more = draw(
        st.sampled_from(
            [
                "",
                "",
                "",
                "dependentRequired",
                "patternProperties",
                "propertyNames",
                "if",
                "unevaluatedProperties",
            ]
        )
    )
    if more == "dependentRequired" and len(names) >= 2:
        s["dependentRequired"] = {names[0]: [names[1]]}
    elif more == "patternProperties":
        s["patternProperties"] = {"^x": draw(leaf_schemas())}
        s["additionalProperties"] = False
    elif more == "propertyNames":
        s["propertyNames"] = draw(st.sampled_from([{"maxLength": 2}, {"pattern": "^[a-e_1]+$"}]))
    elif more == "if" and names:
        s["if"] = {"properties": {names[0]: {"const": "a"}}, "required": [names[0]]}
        s["then"] = {"required": names[1:2]} if len(names) > 1 else {"minProperties": 2}
        s["else"] = {"maxProperties": 2}
    elif more == "unevaluatedProperties":
        s.pop("additionalProperties", None)
        s["unevaluatedProperties"] = draw(st.sampled_from([False, {"type": "integer"}]))
    return s


@st.composite
def array_schemas(draw: Any, child: Any) -> Dict[str, Any]:
    s: Dict[str, Any] = {"type": "array"}
    if draw(st.booleans()):
        s["prefixItems"] = draw(st.lists(child, min_size=1, max_size=2))
        tail = draw(st.sampled_from(["absent", "false", "schema"]))
        if tail == "false":
            s["items"] = False
        elif tail == "schema":
            s["items"] = draw(child)
    elif draw(st.integers(0, 5)) > 0:
        s["items"] = draw(child)
    if draw(st.booleans()):
        s["minItems"] = draw(st.integers(0, 2))
    if draw(st.booleans()):
        s["maxItems"] = s.get("minItems", 0) + draw(st.integers(0, 3))
    more = draw(st.sampled_from(["", "", "", "uniqueItems", "contains"]))
    if more == "uniqueItems":
        s.pop("prefixItems", None)
        s["items"] = {"enum": draw(st.lists(SCALARS, min_size=1, max_size=4, unique_by=_canon))}
        s["uniqueItems"] = True
    elif more == "contains" and "prefixItems" not in s:
        s.pop("minItems", None)
        s.pop("maxItems", None)
        s["contains"] = draw(st.sampled_from([{"type": "string"}, {"const": 1}, {"type": "null"}]))
        s["minContains"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            s["maxContains"] = max(1, s["minContains"]) + draw(st.integers(0, 2))
    return s


@st.composite
def one_of_schemas(draw: Any, child: Any) -> Dict[str, Any]:
    """oneOf over objects told apart by a discriminator property."""
    branches = []
    for tag in ("a", "b"):
        body = draw(object_schemas(child))
        body["properties"] = {"t": {"const": tag}, **body["properties"]}
        body["required"] = ["t"] + [r for r in body.get("required", []) if r != "t"]
        branches.append(body)
    return {"oneOf": branches}


@st.composite
def all_of_schemas(draw: Any, child: Any) -> Dict[str, Any]:
    """allOf of compatible parts: a schema's keywords split into two sub-schemas."""
    whole = draw(child)
    keys = sorted(whole)
    if len(keys) < 2:
        return {"allOf": [whole, {}]}
    cut = draw(st.integers(1, len(keys) - 1))
    order = draw(st.permutations(keys))
    return {"allOf": [{k: whole[k] for k in order[:cut]}, {k: whole[k] for k in order[cut:]}]}


@functools.lru_cache(maxsize=None)
def schemas(depth: int = 0) -> Any:
    if depth >= 3:
        return leaf_schemas()
    child = schemas(depth + 1)
    compound = [
        object_schemas(child),
        array_schemas(child),
        st.lists(child, min_size=2, max_size=3).map(lambda b: {"anyOf": b}),
        all_of_schemas(child),
        one_of_schemas(child),
    ]
    # near the root mostly containers (objects twice), deeper mostly leaves
    if depth == 0:
        return st.one_of(leaf_schemas(), object_schemas(child), *compound)
    return st.one_of(leaf_schemas(), leaf_schemas(), *compound)


OPTIONS = [
    {},
    {"strict_mode": False},
    {"any_whitespace": False},
    {"any_whitespace": False, "separators": (",", ":"), "strict_mode": False},
    {"any_whitespace": False, "indent": 2},
    {"max_whitespace_cnt": 2, "strict_mode": False},
    {"any_order": True},
    {"any_order": True, "strict_mode": False},
]

# --------------------------------------------------------------------------
# Character-level walks
# --------------------------------------------------------------------------

CHARS = [chr(c) for c in range(0x20, 0x7F)] + ["\n", "\t", "\r", "é", "日", "😀", "\u2028"]
CLOSERS = {'"', "]", "}"}
OPENERS = {"[", "{"}
WHITESPACE = {" ", "\n", "\t", "\r"}


@functools.lru_cache(maxsize=None)
def char_compiler() -> Tuple[xgram.GrammarCompiler, int]:
    toks = [c.encode() for c in CHARS] + [b"<stop>"]
    info = xgram.TokenizerInfo(toks, xgram.VocabType.RAW, stop_token_ids=[len(toks) - 1])
    return xgram.GrammarCompiler(info), len(toks) - 1


def allowed_ids(m: xgram.GrammarMatcher, n: int) -> np.ndarray:
    bm = np.zeros(xgram.get_bitmask_shape(1, n), dtype=np.int32)
    m.fill_next_token_bitmask(bm)
    return np.flatnonzero(np.unpackbits(bm.view(np.uint8), bitorder="little")[:n])


def char_walk(
    cg: xgram.CompiledGrammar, stop: int, rng: random.Random, max_steps: int = 300
) -> Optional[str]:
    """A random text of the grammar, or None when the walk does not finish."""
    m = xgram.GrammarMatcher(cg)
    out: List[str] = []
    for step in range(max_steps):
        allowed = allowed_ids(m, stop + 1)
        assert allowed.size, f"empty mask before termination after {''.join(out)!r}"
        ids = [int(i) for i in allowed if i != stop]
        can_stop = len(ids) < allowed.size
        if can_stop and (not ids or rng.random() < 0.25 + step / 60):
            assert m.accept_token(stop) and m.is_terminated()
            return "".join(out)
        weights = []
        for i in ids:
            ch = CHARS[i]
            if ch in WHITESPACE:
                weights.append(0.03)
            elif ch in CLOSERS:
                weights.append(0.5 + step / 6)
            elif ch in OPENERS:
                weights.append(0.3)
            else:
                weights.append(1.0)
        choice = rng.choices(ids, weights)[0]
        assert m.accept_token(choice)
        out.append(CHARS[choice])
    return None


def convert(schema: Any, options: Dict[str, Any], stats: Counter) -> Optional[xgram.Grammar]:
    try:
        g = xgram.Grammar.from_json_schema(schema, **options)
    except xgram.SchemaError as e:
        stats["schema_error"] += 1
        stats[f"schema_error:{e.keyword or str(e)[:50]}"] += 1
        return None
    stats["converted"] += 1
    return g


def check_walks(
    schema: Any,
    options: Dict[str, Any],
    seed: int,
    stats: Counter,
    walks: int = 4,
    max_steps: int = 300,
) -> None:
    stats["schemas"] += 1
    if convert(schema, options, stats) is None:
        return
    compiler, stop = char_compiler()
    cg = compiler.compile_json_schema(schema, **options)
    g = cg.grammar
    rng = random.Random(seed)
    for _ in range(walks):
        text = char_walk(cg, stop, rng, max_steps)
        if text is None:
            stats["walk_unfinished"] += 1
            continue
        stats["walks"] += 1
        assert g.accepts(text), f"matcher finished on a text the grammar rejects: {text!r}"
        try:
            instance = parse(text)
        except DuplicateKeys:
            # JSON Schema leaves duplicate keys undefined; the grammar checks each member
            stats["duplicate_keys"] += 1
            continue
        except ValueError as e:
            raise AssertionError(
                f"not JSON: {text!r}\nschema={json.dumps(schema)} options={options}"
            ) from e
        errors = oracle_errors(schema, instance)
        assert not errors, (
            f"UNSOUND: the grammar produced an invalid instance\n  schema={json.dumps(schema)}\n"
            f"  options={options}\n  text={text!r}\n  errors={errors}"
        )


def _leaf_errors(error: Any) -> List[Any]:
    if not error.context:
        return [error]
    return [leaf for sub in error.context for leaf in _leaf_errors(sub)]


_CAMPAIGNS: Dict[str, Any] = {}


def campaign(name: str, body: Any) -> Counter:
    """Run a hypothesis campaign once per session; its stats feed several tests."""
    if name not in _CAMPAIGNS:
        stats: Counter = Counter()
        try:
            body(stats)
        except BaseException as e:
            _CAMPAIGNS[name] = e
            raise
        _CAMPAIGNS[name] = stats
    result = _CAMPAIGNS[name]
    if isinstance(result, BaseException):
        pytest.skip(f"campaign {name} failed: {type(result).__name__}")
    return result


def walk_campaign(stats: Counter) -> None:
    @settings(max_examples=400, **SETTINGS)
    @given(schema=schemas(), options=st.sampled_from(OPTIONS), seed=st.integers(0, 2**31))
    def run(schema: Any, options: Dict[str, Any], seed: int) -> None:
        check_walks(schema, options, seed, stats)

    run()


def test_sampled_instances_are_valid():
    stats = campaign("walks", walk_campaign)
    print(dict(stats))
    assert stats["walks"] >= 2 * stats["converted"], stats


def test_schema_error_rate():
    stats = campaign("walks", walk_campaign)
    assert stats["schemas"] >= 100
    rate = stats["schema_error"] / stats["schemas"]
    assert rate < MAX_ERROR_RATE, dict(stats)


FIXED_SCHEMAS = [
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "when": {"type": "string", "format": "date"},
            "ip": {"type": "string", "format": "ipv4"},
            "mail": {"type": "string", "format": "email"},
            "n": {"type": "number", "minimum": -1.5, "exclusiveMaximum": 10, "multipleOf": 0.25},
            "k": {"type": "integer", "exclusiveMinimum": 2**64},
            "tags": {"type": "array", "items": {"enum": ["x", "y", "z"]}, "uniqueItems": True},
        },
        "required": ["id", "n", "k"],
    },
    {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer", "minimum": 0, "maximum": 9},
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2},
                },
                "required": ["v"],
            }
        },
        "$ref": "#/$defs/node",
    },
    {
        "oneOf": [
            {
                "type": "object",
                "properties": {"t": {"const": "a"}, "x": {"type": "string", "pattern": "^[a-c]+$"}},
                "required": ["t", "x"],
            },
            {
                "type": "object",
                "properties": {
                    "t": {"const": "b"},
                    "y": {"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "null"}]},
                },
                "required": ["t"],
            },
        ]
    },
    {
        "type": "object",
        "properties": {"kind": {"type": "string"}, "n": {"type": "integer"}},
        "if": {"properties": {"kind": {"const": "num"}}, "required": ["kind"]},
        "then": {"required": ["n"]},
        "else": {"properties": {"n": False}},
        "dependentRequired": {"n": ["kind"]},
        "additionalProperties": {"type": "string", "not": {"enum": ["", "a"]}},
    },
    {
        "type": "array",
        "items": {"type": ["integer", "string"], "maxLength": 2, "not": {"const": 0}},
        "contains": {"type": "string"},
        "minContains": 1,
        "maxContains": 2,
    },
    {
        "type": "object",
        "patternProperties": {"^x": {"type": "integer", "multipleOf": 3}},
        "propertyNames": {"maxLength": 3},
        "additionalProperties": False,
        "minProperties": 1,
    },
]


@pytest.mark.parametrize("index", range(len(FIXED_SCHEMAS)))
@pytest.mark.parametrize("options", [{}, {"strict_mode": False}, {"any_order": True}])
def test_fixed_schemas_char_walks(index, options):
    stats: Counter = Counter()
    schema = FIXED_SCHEMAS[index]
    check_walks(schema, options, seed=index, stats=stats, walks=12, max_steps=600)
    assert stats["converted"] == 1, dict(stats)
    # with any_order, optional members may repeat, and walks wander longer
    assert stats["walks"] >= (3 if options.get("any_order") else 6), dict(stats)


# --------------------------------------------------------------------------
# Token-level walks with a real vocabulary
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def llama3() -> Tuple[xgram.GrammarCompiler, np.ndarray, List[bytes], List[int]]:
    if not SHARED_TOKENIZERS.is_dir():
        pytest.skip(SHARED_SKIP_REASON)
    path = SHARED_TOKENIZERS / "llama3" / "tokenizer.json"
    if not path.is_file():
        pytest.skip(f"real-tokenizer mask test skipped: {path} not found")
    tokenizers = pytest.importorskip("tokenizers")
    info = xgram.TokenizerInfo.from_huggingface(tokenizers.Tokenizer.from_file(str(path)))
    vocab = info.decoded_vocab
    closer = np.array([any(c in tok for c in b'"]}') for tok in vocab])
    return xgram.GrammarCompiler(info), closer, vocab, list(info.stop_token_ids)


def token_walk(
    cg: xgram.CompiledGrammar, rng: np.random.Generator, max_steps: int = 120
) -> Optional[bytes]:
    compiler, closer, vocab, stops = llama3()
    n = len(vocab)
    m = xgram.GrammarMatcher(cg)
    out = b""
    for step in range(max_steps):
        allowed = allowed_ids(m, n)
        assert allowed.size
        stop_ok = np.isin(allowed, stops)
        ids = allowed[~stop_ok]
        if stop_ok.any() and (ids.size == 0 or rng.random() < 0.3 + step / 40):
            assert m.accept_token(int(allowed[stop_ok][0])) and m.is_terminated()
            return out
        closing = ids[closer[ids]]
        pool = closing if closing.size and rng.random() < min(0.9, 0.15 + step / 30) else ids
        choice = int(rng.choice(pool))
        assert m.accept_token(choice)
        out += vocab[choice]
    return None


def check_token_walks(
    schema: Any, options: Dict[str, Any], seed: int, stats: Counter, walks: int
) -> None:
    if convert(schema, options, stats) is None:
        return
    compiler = llama3()[0]
    cg = compiler.compile_json_schema(schema, **options)
    rng = np.random.default_rng(seed)
    for _ in range(walks):
        data = token_walk(cg, rng)
        if data is None:
            stats["walk_unfinished"] += 1
            continue
        stats["walks"] += 1
        text = data.decode("utf-8")
        assert cg.grammar.accepts(text), text
        try:
            instance = parse(text)
        except DuplicateKeys:
            stats["duplicate_keys"] += 1
            continue
        errors = oracle_errors(schema, instance)
        assert not errors, (
            f"UNSOUND (llama3 tokens): schema={json.dumps(schema)} options={options} "
            f"text={text!r} errors={errors}"
        )


def test_fixed_schemas_llama3_walks():
    llama3()
    stats: Counter = Counter()
    for i, schema in enumerate(FIXED_SCHEMAS):
        check_token_walks(schema, {"strict_mode": False}, seed=i, stats=stats, walks=3)
    assert stats["converted"] == len(FIXED_SCHEMAS), dict(stats)
    assert stats["walks"] >= len(FIXED_SCHEMAS), dict(stats)


def test_random_schemas_llama3_walks():
    llama3()
    stats: Counter = Counter()

    @settings(max_examples=20, **SETTINGS)
    @given(schema=schemas(), options=st.sampled_from(OPTIONS), seed=st.integers(0, 2**31))
    def run(schema: Any, options: Dict[str, Any], seed: int) -> None:
        check_token_walks(schema, options, seed, stats, walks=2)

    run()
    print(dict(stats))
    assert stats["walks"] >= 10, dict(stats)


# --------------------------------------------------------------------------
# Valid instances must be accepted
# --------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-9, 99), st.text(alphabet="ab é\n", max_size=3)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=2),
        st.dictionaries(st.text(alphabet="pqr", min_size=1, max_size=2), inner, max_size=2),
    ),
    max_leaves=4,
)


def _number(draw: Any, s: Dict[str, Any], integer: bool) -> Any:
    step = Decimal(repr(s["multipleOf"])) if "multipleOf" in s else None
    if integer:
        step = Decimal(1) if step is None else max(step, Decimal(1))
        if step != step.to_integral_value():
            step = Decimal(1)
    else:
        step = step or draw(st.sampled_from([Decimal("0.25"), Decimal("0.01"), Decimal(1)]))
    lows = [Decimal(repr(s[k])) for k in ("minimum", "exclusiveMinimum") if k in s]
    highs = [Decimal(repr(s[k])) for k in ("maximum", "exclusiveMaximum") if k in s]
    lo = max(lows) if lows else (min(highs) - 50 if highs else Decimal(-50))
    hi = min(highs) if highs else lo + 100
    k_lo = int((lo / step).to_integral_value(rounding=decimal.ROUND_FLOOR)) - 1
    k_hi = int((hi / step).to_integral_value(rounding=decimal.ROUND_CEILING)) + 1
    k = draw(st.integers(k_lo, max(k_lo, k_hi)))
    value = k * step
    if value == value.to_integral_value():
        return int(value)
    f = float(value)
    return f if "e" not in repr(f) and Decimal(repr(f)) == value else int(value)


@st.composite
def instances(draw: Any, s: Any, strict: bool) -> Any:
    """A (probably) valid instance of ``s``, keys in schema order, nothing undeclared in strict mode."""
    if s is True or s == {}:
        return draw(JSON_VALUES.filter(lambda v: not (strict and isinstance(v, dict) and v)))
    if "allOf" in s:
        merged: Dict[str, Any] = {}
        for part in s["allOf"]:
            merged.update(part)
        return draw(instances(merged, strict))
    for key in ("anyOf", "oneOf"):
        if key in s:
            return draw(instances(draw(st.sampled_from(s[key])), strict))
    if "const" in s:
        return s["const"]
    if "enum" in s:
        return draw(st.sampled_from(s["enum"]))
    if "type" not in s:  # {"not": {"type": ...}}
        return draw(JSON_VALUES.filter(lambda v: not (strict and isinstance(v, dict) and v)))
    types = s["type"] if isinstance(s["type"], list) else [s["type"]]
    t = draw(st.sampled_from(types))
    if t == "null":
        return None
    if t == "boolean":
        return draw(st.booleans())
    if t in ("integer", "number"):
        return _number(draw, s, t == "integer")
    if t == "string":
        if "format" in s:
            return draw(FORMATS[s["format"]])
        if "pattern" in s:
            return draw(PATTERNS[s["pattern"]])
        lo = s.get("minLength", 0)
        hi = s.get("maxLength", lo + 4)
        return draw(st.text(alphabet='ab é"\\/\n日😀\x01', min_size=lo, max_size=max(lo, hi)))
    if t == "array":
        prefix = s.get("prefixItems", [])
        n = draw(st.integers(s.get("minItems", 0), s.get("maxItems", s.get("minItems", 0) + 3)))
        out = []
        for i in range(n):
            if i < len(prefix):
                out.append(draw(instances(prefix[i], strict)))
            else:
                # strict mode: nothing after prefixItems unless `items` is a schema; an
                # explicit `items: true` is also refused (see test_strict_mode_explicit_true)
                items = s.get("items", None if prefix and strict else True)
                if items is False or items is None or (items is True and prefix and strict):
                    break
                out.append(draw(instances(items, strict)))
        return out
    assert t == "object"
    out: Dict[str, Any] = {}
    required = s.get("required", [])
    for name, sub in s.get("properties", {}).items():
        if name in required or draw(st.booleans()):
            out[name] = draw(instances(sub, strict))
    extra = s.get("additionalProperties", None if strict else True)
    if isinstance(extra, dict) or (extra is True and not strict):
        keys = draw(
            st.lists(st.text(alphabet="pqé", min_size=1, max_size=3), max_size=2, unique=True)
        )
        for key in keys:
            if key not in out and key not in s.get("properties", {}):
                out[key] = draw(instances(extra, strict))
    return out


def dumps(value: Any, options: Dict[str, Any]) -> str:
    if options.get("any_whitespace", True):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(
        value,
        ensure_ascii=False,
        indent=options.get("indent"),
        separators=options.get("separators"),
    )


def _shuffle_keys(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffle_keys(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffle_keys(v, rng) for v in value]
    return value


def feedback_campaign(stats: Counter) -> None:
    @settings(max_examples=400, **SETTINGS)
    @given(data=st.data(), schema=schemas(), options=st.sampled_from(OPTIONS))
    def run(data: Any, schema: Any, options: Dict[str, Any]) -> None:
        stats["schemas"] += 1
        g = convert(schema, options, stats)
        if g is None:
            return
        strict = options.get("strict_mode", True)
        for _ in range(3):
            value = data.draw(instances(schema, strict))
            if options.get("any_order"):
                value = _shuffle_keys(value, random.Random(data.draw(st.integers(0, 99))))
            text = dumps(value, options)
            if oracle_errors(schema, parse(text)):
                stats["built_invalid"] += 1
                continue
            stats["checked"] += 1
            assert g.accepts(text), (
                f"valid instance rejected\n  schema={json.dumps(schema)}\n  options={options}\n"
                f"  text={text!r}"
            )

    run()


def test_valid_instances_are_accepted():
    stats = campaign("feedback", feedback_campaign)
    print(dict(stats))
    assert stats["checked"] >= stats["converted"], dict(stats)
