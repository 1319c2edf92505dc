"""Exactness of the JSON Schema combinations the converter used to refuse, by sampling.

Random small schemas (hypothesis, derandomised) combine what issue 19 taught the
converter: strings under several constraints at once (``pattern`` with ``pattern``
through ``allOf``, with ``format``, with lengths, ``not: {pattern}``, anchors inside
groups and alternatives, top-level lookaheads), objects mixing ``properties``,
overlapping ``patternProperties``, ``additionalProperties`` schemas and
``propertyNames``, ``oneOf`` with overlapping branches, and ``not`` of ``items``,
``contains``, ``additionalProperties``, ``patternProperties``, ``propertyNames``,
``multipleOf`` and ``type``. Keys and strings come from a few letters so that random
strings hit the patterns. For each schema that converts (``strict_mode=False``):

* **generation is sound**: character-level walks under the token mask (the helpers of
  ``test_json_schema_sampling``) give texts that jsonschema accepts;
* **verdicts are exact**: random instances and one-spot mutations of the walked ones
  are serialised with ``json.dumps`` and ``Grammar.accepts`` must agree with jsonschema
  both ways. Keys come in any order, so this uses ``any_order=True``; under the default
  grammar (schema property order) only instances whose objects have at most one member
  are held to the valid-is-accepted direction.

The oracle is ``Draft202012Validator`` with its format checker, numbers read exactly as
``Decimal``. Two differences are not the converter's and are bridged here:

* jsonschema runs patterns with Python's ``re``, where ``$`` also matches before a
  final newline and ``.`` matches ``\\r`` and ``\\u2028``; JSON Schema means ECMA-262,
  so the oracle sees ``$`` as ``\\Z`` and ``.`` as ``[^\\n\\r\\u2028\\u2029]``;
* jsonschema's ``email`` only looks for an ``@`` and its ``uuid`` lets hyphens stand
  anywhere, while the grammar follows the RFCs; formats appear only where they are
  asserted (never under ``not`` or ``oneOf``), and a rejected instance counts against
  the grammar only when it also passes a stricter check of those two formats.

Numbers are written without exponents (the grammar spells an integer's exponent only
after an integer mantissa, a documented over-strictness). Schemas that no value
satisfies must be reported so (``SchemaError``) or compile to an empty language, and
jsonschema must reject every candidate. Each combination also has hand-written cases,
and the wrong verdict this test found (a ``oneOf`` of an integer branch and a numeric
constant, taken for disjoint) has its own.
"""

from __future__ import annotations

import decimal
import json
import os
import random
import re
import sys
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

import xgram

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_json_schema_sampling import (  # noqa: E402
    SETTINGS,
    DuplicateKeys,
    Oracle,
    campaign,
    char_compiler,
    char_walk,
    convert,
    oracle_errors,
    parse,
)

#: SchemaErrors other than "no JSON value satisfies this schema", per grammar order:
#: any_order refuses min/maxProperties, which the schema-order grammar supports
MAX_REFUSAL_RATE = {"in_order": 0.02, "any_order": 0.30}
EXAMPLES = 500
WALKS = 4
RANDOM_INSTANCES = 8
MUTATIONS_PER_WALK = 3

# --------------------------------------------------------------------------
# Oracle: ECMA-262 patterns and strict formats on top of jsonschema
# --------------------------------------------------------------------------

ECMA_DOT = "[^\\n\\r\\u2028\\u2029]"


def ecma_pattern(pattern: str) -> str:
    """``pattern`` for Python's ``re`` with ECMA-262's meaning of ``$`` and ``.``."""
    out: List[str] = []
    in_class = escaped = False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        elif in_class:
            out.append(ch)
            in_class = ch != "]"
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif ch == "$":
            out.append("\\Z")
        elif ch == ".":
            out.append(ECMA_DOT)
        else:
            out.append(ch)
    return "".join(out)


def ecma_schema(schema: Any) -> Any:
    """``schema`` with every ``pattern`` and ``patternProperties`` key made ECMA-exact."""
    if isinstance(schema, list):
        return [ecma_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: Dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern" and isinstance(value, str):
            out[key] = ecma_pattern(value)
        elif key == "patternProperties":
            out[key] = {ecma_pattern(p): ecma_schema(s) for p, s in value.items()}
        elif key == "properties":
            out[key] = {name: ecma_schema(s) for name, s in value.items()}
        else:
            out[key] = ecma_schema(value)
    return out


RFC_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# a subset of RFC 5321 mailboxes: dot-atoms of letters and digits
SIMPLE_EMAIL = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*@[a-z]+(?:\.[a-z]+)*")


def _stricter(fmt: str, regex: re.Pattern) -> Callable[[object], bool]:
    loose = Draft202012Validator.FORMAT_CHECKER

    def check(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        return loose.conforms(instance, fmt) and regex.fullmatch(instance) is not None

    return check


STRICT_FORMATS = FormatChecker(formats=())
STRICT_FORMATS.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
STRICT_FORMATS.checks("uuid")(_stricter("uuid", RFC_UUID))
STRICT_FORMATS.checks("email")(_stricter("email", SIMPLE_EMAIL))


def is_valid(schema: Any, instance: Any) -> bool:
    """jsonschema's verdict (loose formats), patterns as ECMA-262 reads them."""
    return not oracle_errors(ecma_schema(schema), instance)


def is_surely_valid(schema: Any, instance: Any) -> bool:
    """Valid even with ``email`` and ``uuid`` held to their RFCs."""
    exact = json.loads(json.dumps(ecma_schema(schema)), parse_float=Decimal)
    with decimal.localcontext() as ctx:
        ctx.prec = 30_000
        return Oracle(exact, format_checker=STRICT_FORMATS).is_valid(instance)


# --------------------------------------------------------------------------
# Random schemas
# --------------------------------------------------------------------------

#: strings and keys are drawn from these letters, which the patterns are written over
LETTERS = "abx/"
NAMES = ["a", "b", "ab", "x"]
KEY_POOL = NAMES + ["ba", "xa", "bx", "aa", "b/"]
STRING_PATTERNS = [
    "a",
    "^a",
    "b$",
    "^[ab]*$",
    "ab|ba",
    "x{2}",
    "^[^x]+$",
    "a.b",
    "^(ab)+$",
    # anchors inside groups and alternatives
    "(^a|b)",
    "a$|b",
    "(^|/)x",
    "(x$|^b)",
    "^a|b$",
    "(^a)(b|x$)",
    # top-level lookaheads
    "^(?!ab)",
    "^(?!.*x)",
    "^(?=.*b)",
    "^(?![ab]*$)",
    "^(?!a)[ab]",
]
KEY_PATTERNS = ["^a", "b$", "^[ab]+$", "x", "^(?!a)", "(^b|x$)", "^.$", "a$|^x"]
FORMAT_PATTERNS = {
    "date": ["^19", "^20", "-0[1-6]-", "-[12][0-9]$", "^(?!2000)"],
    "email": ["^a", "\\.io$", "^[^@]{1,3}@", "@[a-m]", "^(?!.*\\.)"],
    "ipv4": ["^1", "\\.0$", "^(10|192)\\.", "^(?!127)", "(^|\\.)2"],
    "uuid": ["^[0-9]", "^[a-f]", "-4", "[89ab][0-9a-f]{3}-", "(^|-)0"],
}


def _maybe(draw: Any, probability: float) -> bool:
    return draw(st.integers(0, 99)) < probability * 100


@st.composite
def string_combos(draw: Any, formats: bool = True) -> Dict[str, Any]:
    """A string schema with several constraints at once."""
    s: Dict[str, Any] = {"type": "string"} if _maybe(draw, 0.8) else {}
    fmt = draw(st.sampled_from(sorted(FORMAT_PATTERNS))) if formats and _maybe(draw, 0.3) else None
    pool = FORMAT_PATTERNS[fmt] if fmt else STRING_PATTERNS
    if fmt:
        s["format"] = fmt
    if fmt or _maybe(draw, 0.8):
        s["pattern"] = draw(st.sampled_from(pool))
    extra = draw(st.lists(st.sampled_from(pool), max_size=2, unique=True))
    if extra:
        s["allOf"] = [{"pattern": p} for p in extra]
    if _maybe(draw, 0.4):
        s["minLength"] = draw(st.integers(0, 2))
    if _maybe(draw, 0.4):
        s["maxLength"] = s.get("minLength", 0) + draw(st.integers(0, 3)) + (30 if fmt else 0)
    if _maybe(draw, 0.35):
        s["not"] = {"pattern": draw(st.sampled_from(pool))}
    return s


def leaves(formats: bool) -> Any:
    """Small value schemas; ``formats`` where a format would be asserted, not negated."""
    return st.one_of(
        st.sampled_from(
            [True, False, {"minimum": 0}, {"maxLength": 1}, {"const": 1}, {"enum": ["a", 1, None]}]
            + [{"type": t} for t in ("integer", "string", "null")]
            + [{"not": {"type": "integer"}}]
        ),
        st.sampled_from(STRING_PATTERNS).map(lambda p: {"type": "string", "pattern": p}),
        string_combos(formats),
    )


@st.composite
def object_combos(draw: Any, child: Any) -> Dict[str, Any]:
    """properties + overlapping patternProperties + additionalProperties + propertyNames."""
    s: Dict[str, Any] = {"type": "object"} if _maybe(draw, 0.7) else {}
    names = draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
    if names:
        s["properties"] = {n: draw(child) for n in names}
    patterns = draw(st.lists(st.sampled_from(KEY_PATTERNS), min_size=1, max_size=2, unique=True))
    s["patternProperties"] = {p: draw(child) for p in patterns}
    extra = draw(st.sampled_from(["absent", "false", "schema", "schema"]))
    if extra != "absent":
        s["additionalProperties"] = False if extra == "false" else draw(child)
    key_rule = draw(
        st.sampled_from(
            [None, {"maxLength": 1}, {"not": {"const": "x"}}, {"pattern": "^[ab]+$"}]
            + [{"pattern": p} for p in KEY_PATTERNS[:4]]
        )
    )
    if key_rule is not None:
        s["propertyNames"] = key_rule
    required = draw(st.lists(st.sampled_from(NAMES + ["ba"]), max_size=2, unique=True))
    if required:
        s["required"] = required
    if _maybe(draw, 0.2):
        s["maxProperties"] = draw(st.integers(1, 3))
    return s


def _closed_object(draw: Any) -> Dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
    branch: Dict[str, Any] = {
        "properties": {n: draw(leaves(False)) for n in names},
        "additionalProperties": False,
    }
    if names and _maybe(draw, 0.5):
        branch["required"] = names[:1]
    return branch


NUMBER_BRANCHES = [
    *({"type": t} for t in ("integer", "number", "string")),
    *({"const": 3}, {"const": 0.5}, {"enum": [1, "a"]}, {"not": {"multipleOf": 3}}),
    *({"minimum": 0}, {"maximum": 2}, {"multipleOf": 2}),
    {"type": "number", "exclusiveMinimum": 1},
]


@st.composite
def one_of_combos(draw: Any) -> Dict[str, Any]:
    """oneOf whose branches overlap."""
    kind = draw(st.sampled_from(["required", "numbers", "closed", "strings", "objects"]))
    if kind == "required":
        keys = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=3, unique=True))
        s: Dict[str, Any] = {"oneOf": [{"required": [k]} for k in keys]}
        if _maybe(draw, 0.5):
            s["type"] = "object"
        if _maybe(draw, 0.5):
            s["properties"] = {keys[0]: draw(leaves(False))}
        return s
    if kind == "numbers":
        branches = draw(st.lists(st.sampled_from(NUMBER_BRANCHES), min_size=2, max_size=3))
        return {"oneOf": branches}
    if kind == "closed":
        return {"type": "object", "oneOf": [_closed_object(draw), _closed_object(draw)]}
    if kind == "strings":
        patterns = draw(st.lists(st.sampled_from(STRING_PATTERNS), min_size=2, max_size=3))
        s = {"oneOf": [{"pattern": p} for p in patterns]}
        if _maybe(draw, 0.7):
            s["type"] = "string"
        if _maybe(draw, 0.3):
            s["oneOf"].append({"maxLength": 1})
        return s
    child = leaves(False)
    return {"oneOf": [draw(object_combos(child)), draw(st.one_of(object_combos(child), child))]}


@st.composite
def not_combos(draw: Any) -> Dict[str, Any]:
    """``not`` of a keyword that constrains the members or items of an instance."""
    leaf = draw(leaves(False))
    kinds = "items contains additionalProperties patternProperties propertyNames multipleOf"
    kind = draw(st.sampled_from(kinds.split() + ["integer"]))
    if kind in ("items", "contains"):
        negated: Dict[str, Any] = {kind: leaf}
        outer = "array"
    elif kind == "additionalProperties":
        negated = {kind: leaf}
        if _maybe(draw, 0.5):
            negated["properties"] = {draw(st.sampled_from(NAMES)): {}}
        outer = "object"
    elif kind == "patternProperties":
        negated = {kind: {draw(st.sampled_from(KEY_PATTERNS)): leaf}}
        outer = "object"
    elif kind == "propertyNames":
        names = {"pattern": draw(st.sampled_from(KEY_PATTERNS))}
        negated = {kind: draw(st.sampled_from([names, {"maxLength": 1}]))}
        outer = "object"
    elif kind == "multipleOf":
        negated = {kind: draw(st.sampled_from([2, 3, 0.5]))}
        outer = "number"
    else:
        negated = {"type": "integer"}
        outer = "number"
    s: Dict[str, Any] = {"not": negated}
    if _maybe(draw, 0.4):
        s["type"] = outer
    return s


@st.composite
def nested_combos(draw: Any) -> Dict[str, Any]:
    """The combinations one level down, under an object's members or an array's items."""
    inner = st.one_of(string_combos(), one_of_combos(), not_combos())
    if _maybe(draw, 0.3):
        return {"type": "array", "items": draw(inner), "maxItems": 3}
    return draw(object_combos(inner))


FAMILIES = {
    "string": string_combos(),
    "object": object_combos(leaves(True)),
    "oneOf": one_of_combos(),
    "not": not_combos(),
    "nested": nested_combos(),
}
OPTIONS = [{"strict_mode": False, "any_order": True}, {"strict_mode": False}]


# --------------------------------------------------------------------------
# Random instances and mutations
# --------------------------------------------------------------------------


def format_sample(rng: random.Random) -> str:
    """A string that is, or is close to, a date, email, ipv4 or uuid."""
    kind = rng.randrange(4)
    if kind == 0:
        year = rng.choice([1999, 2000, 2024, 1900])
        return f"{year:04d}-{rng.randint(1, 13):02d}-{rng.randint(1, 31):02d}"
    if kind == 1:
        local = "".join(rng.choice("abx.") for _ in range(rng.randint(1, 4)))
        return f"{local}@{rng.choice(['a.io', 'mail.org', 'x', 'b..c'])}"
    if kind == 2:
        return ".".join(str(rng.choice([0, 1, 2, 10, 127, 192, 255, 256])) for _ in range(4))
    text = str(uuid.UUID(int=rng.getrandbits(128)))
    return text.upper() if rng.random() < 0.2 else text


def random_string(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return format_sample(rng)
    return "".join(rng.choice(LETTERS) for _ in range(rng.randint(0, 4)))


SCALAR_NUMBERS = [-3, -1, 0, 1, 2, 3, 4, 6, 0.5, -1.5, 3.0, 2.5]


def random_instance(rng: random.Random, depth: int = 0) -> Any:
    """A small JSON value over the letters the schemas use."""
    roll = rng.random() if depth < 2 else rng.random() * 0.7
    if roll < 0.25:
        return random_string(rng)
    if roll < 0.45:
        return rng.choice(SCALAR_NUMBERS)
    if roll < 0.55:
        return rng.choice([None, True, False])
    if roll < 0.7:
        return [random_instance(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = rng.sample(KEY_POOL, rng.randint(0, 3))
    return {k: random_instance(rng, depth + 1) for k in keys}


def _mutate_string(rng: random.Random, text: str) -> str:
    i = rng.randint(0, len(text))
    op = rng.randrange(3) if text else 0
    if op == 0:
        return text[:i] + rng.choice(LETTERS + "-.@0") + text[i:]
    i = min(i, len(text) - 1)
    if op == 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice(LETTERS + "-.@0") + text[i + 1 :]


def _mutate_object(rng: random.Random, value: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(value)
    op = rng.randrange(3) if out else 0
    if op == 0:
        out[rng.choice(KEY_POOL)] = random_instance(rng, 1)
    elif op == 1:
        del out[rng.choice(list(out))]
    else:
        old = rng.choice(list(out))
        out[_mutate_string(rng, old)] = out.pop(old)
    return out


def mutate(rng: random.Random, value: Any) -> Any:
    """``value`` changed at one random spot."""
    children = list(value.items()) if isinstance(value, dict) else None
    if isinstance(value, list):
        children = list(enumerate(value))
    if children and rng.random() < 0.6:
        key, child = rng.choice(children)
        out = dict(value) if isinstance(value, dict) else list(value)
        out[key] = mutate(rng, child)
        return out
    if isinstance(value, dict):
        return _mutate_object(rng, value)
    if isinstance(value, list):
        if value and rng.random() < 0.5:
            return value[:-1]
        return value + [random_instance(rng, 1)]
    if isinstance(value, str) and rng.random() < 0.8:
        return _mutate_string(rng, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and rng.random() < 0.7:
        return _mutate_number(rng, value)
    return random_instance(rng, 1)


def _mutate_number(rng: random.Random, value: float) -> float:
    """A nearby number, written without an exponent.

    The grammar spells integers with an exponent only as an integer mantissa
    (``38e42``, not ``3.8e43``): a documented over-strictness this module avoids.
    """
    half = value / 2
    if rng.random() < 0.7 or "e" in repr(half):
        return int(value) + rng.choice([-1, 1, 2])
    return half


def plain(value: Any) -> Any:
    """``value`` with its Decimals as ints or floats, so that ``json.dumps`` takes it.

    Walked numbers are read as Decimal; a mutation source need not keep them exact.
    """
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if not isinstance(value, Decimal):
        return value
    if value == value.to_integral_value():
        # exponents are clamped to 10**4; json.dumps writes at most 4,300 digits
        return int(value) if abs(value) < 10**30 else int(Decimal(10**30).copy_sign(value))
    as_float = float(value)
    return as_float if "e" not in repr(as_float) else 0.5


def order_free(value: Any) -> bool:
    """True when no object in ``value`` has two members (member order cannot matter)."""
    if isinstance(value, dict):
        return len(value) <= 1 and all(order_free(v) for v in value.values())
    if isinstance(value, list):
        return all(order_free(v) for v in value)
    return True


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def _describe(schema: Any, options: Dict[str, Any], text: str) -> str:
    return f"\n  schema={json.dumps(schema)}\n  options={options}\n  text={text!r}"


def walked_instances(
    cg: xgram.CompiledGrammar, schema: Any, options: Dict[str, Any], seed: int, stats: Counter
) -> List[Any]:
    """Walk the mask; every finished text must be valid. Returns the instances read."""
    stop = char_compiler()[1]
    rng = random.Random(seed)
    found = []
    for _ in range(WALKS):
        text = char_walk(cg, stop, rng, max_steps=200)
        if text is None:
            stats["walk_unfinished"] += 1
            continue
        stats["walks"] += 1
        try:
            instance = parse(text)
        except DuplicateKeys:
            stats["duplicate_keys"] += 1
            continue
        assert is_valid(schema, instance), "UNSOUND: walk produced an invalid instance" + (
            _describe(schema, options, text)
        )
        found.append(instance)
    return found


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_verdict(
    g: xgram.Grammar, schema: Any, options: Dict[str, Any], value: Any, stats: Counter
) -> None:
    """``g`` accepts the text of ``value`` exactly when jsonschema says it is valid."""
    text = json.dumps(value, ensure_ascii=False)
    if LONE_SURROGATE.search(text):
        # a walk may spell "\\udbca"; such a string has no UTF-8 form to feed back, and
        # RFC 8259 leaves its meaning open
        stats["lone_surrogate"] += 1
        return
    instance = parse(text)
    if g.accepts(text):
        stats["accepted"] += 1
        assert is_valid(schema, instance), "UNSOUND: invalid instance accepted" + (
            _describe(schema, options, text)
        )
        return
    stats["rejected"] += 1
    if not options.get("any_order") and not order_free(instance):
        return  # the default grammar may reject it for its member order alone
    if is_surely_valid(schema, instance):
        raise AssertionError("valid instance rejected" + _describe(schema, options, text))
    stats["rejected_invalid"] += 1


UNSATISFIABLE = "no JSON value satisfies this schema"
#: the SchemaErrors other than UNSATISFIABLE, printed by the rate test
REFUSALS: List[str] = []


def conversion_error(schema: Any, options: Dict[str, Any]) -> str:
    try:
        xgram.Grammar.from_json_schema(schema, **options)
    except xgram.SchemaError as e:
        return str(e)
    return "converts on a second try"


def compiled_or_none(g: xgram.Grammar, stats: Counter) -> Optional[xgram.CompiledGrammar]:
    """``g`` compiled for the character vocabulary; None when its language is empty.

    A schema no value satisfies (as when ``not`` repeats the ``pattern``) may convert,
    and the compiler, not the converter, finds that nothing completes it.
    """
    try:
        return char_compiler()[0].compile_grammar(g)
    except xgram.GrammarError as e:
        assert "accepts no string" in str(e), str(e)
        stats["empty_language"] += 1
        return None


def check_nothing_valid(
    schema: Any, options: Dict[str, Any], candidates: List[Any], stats: Counter
) -> None:
    """The converter or the compiler found ``schema`` unsatisfiable: jsonschema agrees."""
    for value in candidates:
        text = json.dumps(value, ensure_ascii=False)
        stats["rejected_unsatisfiable"] += 1
        assert not is_surely_valid(schema, parse(text)), (
            "found unsatisfiable, yet this is valid" + _describe(schema, options, text)
        )


def order_name(options: Dict[str, Any]) -> str:
    return "any_order" if options.get("any_order") else "in_order"


def check_schema(schema: Any, options: Dict[str, Any], seed: int, stats: Counter) -> None:
    stats["schemas"] += 1
    stats["schemas:" + order_name(options)] += 1
    rng = random.Random(seed)
    candidates = [random_instance(rng) for _ in range(RANDOM_INSTANCES)]
    g = convert(schema, options, stats)
    if g is None:
        message = conversion_error(schema, options)
        if message != UNSATISFIABLE:
            stats["refused:" + order_name(options)] += 1
            REFUSALS.append(f"{json.dumps(schema)} {options}: {message}")
            return
        stats["unsatisfiable"] += 1
        check_nothing_valid(schema, options, candidates, stats)
        return
    cg = compiled_or_none(g, stats)
    if cg is None:
        check_nothing_valid(schema, options, candidates, stats)
        return
    walked = [plain(v) for v in walked_instances(cg, schema, options, seed, stats)]
    candidates += [mutate(rng, v) for v in walked for _ in range(MUTATIONS_PER_WALK)]
    for value in candidates + walked:
        check_verdict(g, schema, options, value, stats)


def combination_campaign(stats: Counter) -> None:
    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(
        family=st.sampled_from(sorted(FAMILIES)),
        data=st.data(),
        options=st.sampled_from(OPTIONS),
        seed=st.integers(0, 2**31),
    )
    def run(family: str, data: Any, options: Dict[str, Any], seed: int) -> None:
        schema = data.draw(FAMILIES[family], label=family)
        stats[f"family:{family}"] += 1
        check_schema(schema, options, seed, stats)

    run()


def stats_of_campaign() -> Counter:
    return campaign("combinations", combination_campaign)


def test_walked_instances_are_valid():
    stats = stats_of_campaign()
    print(dict(stats))
    assert stats["walks"] >= 2 * stats["converted"], dict(stats)


def test_verdicts_agree_with_jsonschema():
    stats = stats_of_campaign()
    # both verdicts must be exercised in earnest, not only the easy one
    assert stats["accepted"] >= 3 * stats["converted"], dict(stats)
    assert stats["rejected_invalid"] >= 3 * stats["converted"], dict(stats)


def test_every_family_is_drawn_and_converts():
    stats = stats_of_campaign()
    for family in FAMILIES:
        assert stats[f"family:{family}"] >= EXAMPLES // 10, dict(stats)
    print("\n".join(["refused:"] + REFUSALS))
    for order, rate in MAX_REFUSAL_RATE.items():
        assert stats["refused:" + order] <= rate * stats["schemas:" + order], dict(stats)


# --------------------------------------------------------------------------
# Each combination by hand
# --------------------------------------------------------------------------

UUID0 = "0a1b2c3d-0000-4000-8000-000000000000"
UUID1 = "1" + UUID0[1:]
#: (schema, valid instances, invalid instances); objects have at most one member, so
#: member order cannot matter and both grammars of OPTIONS must judge them alike
HAND_CASES: List[Any] = [
    ({"type": "string", "allOf": [{"pattern": "^a"}, {"pattern": "b$"}]}, ["ab", "axb"], ["a"]),
    ({"type": "string", "format": "date", "pattern": "^20"}, ["2024-02-29"], ["2023-02-29"]),
    ({"type": "string", "format": "email", "pattern": "\\.io$"}, ["a@b.io"], ["a@b.c", "b.io"]),
    ({"type": "string", "format": "ipv4", "pattern": "^10\\."}, ["10.0.0.1"], ["10.0.0.256"]),
    ({"type": "string", "format": "uuid", "pattern": "^0"}, [UUID0], [UUID1, UUID0[:-1]]),
    ({"type": "string", "pattern": "a", "minLength": 2, "maxLength": 3}, ["ab"], ["a", "aaaa"]),
    ({"type": "string", "not": {"pattern": "ab"}}, ["ba", ""], ["xaby", 1]),
    ({"type": "string", "pattern": "(^a|b)"}, ["ax", "xb"], ["xa"]),
    ({"type": "string", "pattern": "a$|b"}, ["xa", "bx"], ["ax"]),
    ({"type": "string", "pattern": "(^|/)x"}, ["x", "a/x"], ["ax"]),
    ({"type": "string", "pattern": "^(?!ab)"}, ["ba", "a", ""], ["abx"]),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "patternProperties": {"^a": {"minimum": 0}, "b$": {"type": "string"}},
            "additionalProperties": {"type": "null"},
            "propertyNames": {"maxLength": 2},
        },
        [{"a": 1}, {"ab": "x"}, {"aa": 1}, {"x": None}],
        [{"a": -1}, {"ab": 1}, {"aa": -1}, {"x": 1}, {"abc": None}],
    ),
    ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, [{"a": 1}, {"b": 1}], [{}, 3]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, [-1, 0.5, "a"], [1, -1.5]),
    (
        {
            "oneOf": [
                {"properties": {"a": {}}, "additionalProperties": False},
                {"properties": {"a": {}, "b": {}}, "additionalProperties": False},
            ]
        },
        [{"b": 1}],
        [{}, {"a": 1}, {"x": 1}, 1],
    ),
    ({"type": "string", "oneOf": [{"pattern": "^a"}, {"pattern": "b$"}]}, ["ax", "xb"], ["ab"]),
    ({"type": "array", "not": {"items": {"type": "integer"}}}, [[1, "a"]], [[], [1]]),
    ({"not": {"contains": {"type": "integer"}}}, [[], ["a"]], [[1], 1]),
    ({"type": "object", "not": {"additionalProperties": {"type": "integer"}}}, [{"a": "x"}], [{}]),
    (
        {"type": "object", "not": {"patternProperties": {"^a": {"type": "integer"}}}},
        [{"ab": "x"}],
        [{"ab": 1}, {"b": "x"}],
    ),
    ({"type": "object", "not": {"propertyNames": {"pattern": "^a"}}}, [{"b": 1}], [{}, {"a": 1}]),
    ({"not": {"multipleOf": 3}}, [4, 1.5], [6, "a"]),
    ({"not": {"type": "integer"}}, [1.5, "a"], [1, 1.0]),
]


@pytest.mark.parametrize("index", range(len(HAND_CASES)))
def test_hand_cases(index: int) -> None:
    schema, valid, invalid = HAND_CASES[index]
    verdicts = [(v, True) for v in valid] + [(v, False) for v in invalid]
    stats: Counter = Counter()
    for options in OPTIONS:
        g = convert(schema, options, stats)
        if g is None:  # property counts under any_order are refused, not both ways
            continue
        cg = compiled_or_none(g, stats)
        assert cg is not None, schema
        walked_instances(cg, schema, options, index, stats)
        for value, valid in verdicts:
            text = json.dumps(value)
            assert is_surely_valid(schema, parse(text)) == valid, (schema, text)
            assert g.accepts(text) == valid, _describe(schema, options, text)
    assert stats["converted"] >= 1, dict(stats)


@pytest.mark.parametrize(
    "branches", [[{"type": "integer"}, {"const": 3}], [{"enum": [3, "a"]}, {"type": "integer"}]]
)
def test_integer_beside_number_constant_overlaps(branches: List[Any]) -> None:
    g = xgram.Grammar.from_json_schema({"oneOf": branches}, strict_mode=False)
    assert not is_valid({"oneOf": branches}, 3)
    assert not g.accepts("3")
