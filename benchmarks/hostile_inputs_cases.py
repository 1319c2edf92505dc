"""The table of hostile inputs that ``hostile_inputs.py`` runs (issue 22, item 5).

Each :class:`Case` names a grammar, regex or JSON Schema built to make a compiler
or matcher work hard (exponential automata, huge counts, very wide or very deep
inputs, huge numbers), and a valid instance to feed its matcher when one is easy
to give. Large inputs are built by functions, in the child process that runs the
case, not here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional


@dataclass(frozen=True)
class Case:
    """One hostile input.

    ``kind`` says how ``make()`` is read: ``ebnf`` and ``regex`` give grammar
    text, ``schema`` a JSON Schema, ``accepts`` a regex whose
    ``Grammar.accepts(sample)`` is the measured matching (no tokenizer),
    ``accepts_json`` the same with the builtin JSON grammar. ``sample`` gives a
    valid instance, or is None when none is easy to give; ``feed_all`` feeds every
    token of it (fill and accept, timed as matching) instead of the first few.
    Both are functions because some inputs are hundreds of megabytes as text:
    they are built in the child that runs the case.
    """

    name: str
    what: str
    kind: str
    make: Callable[[], Any]
    sample: Optional[Callable[[], str]] = None
    feed_all: bool = False


def case(
    name: str,
    kind: str,
    source: Any,
    sample: Any = None,
    what: str = "",
    feed_all: bool = False,
) -> Case:
    """A :class:`Case`; ``source`` and ``sample`` are values or functions that build them."""
    if not what:
        shown = source if isinstance(source, str) else json.dumps(source)
        what = f"{'EBNF' if kind == 'ebnf' else kind} `{shown}`"
    make = source if callable(source) else (lambda: source)
    if sample is None or callable(sample):
        return Case(name, what, kind, make, sample, feed_all)
    return Case(name, what, kind, make, lambda: sample, feed_all)


def words(count: int) -> List[str]:
    return [f"w{i}" for i in range(count)]


def string(**keywords: Any) -> Any:
    """A string schema with ``keywords``."""
    return {"type": "string", **keywords}


def quoted(text: str) -> str:
    return json.dumps(text)


BIG = 10**9
DEPTH = 10_000
NESTED_COUNTED = "((a{1,100}){1,100}){1,100}"
NESTED_UNFOLDABLE = "((a{1,100}b?){1,100}){1,100}"
KEY_WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
    "november oscar papa quebec romeo sierra tango"
).split()
EXPONENTIAL = "(a|b)*a(a|b){%d}"
# Every split of a balanced text is a parse: the number of parses grows exponentially.
AMBIGUOUS = 'root ::= s\ns ::= "a" s "b" | s s | ""'
AMBIGUOUS_SHOWN = AMBIGUOUS.replace("\n", "; ")


def nested(wrap: Callable[[Any], Any], leaf: Any, depth: int = DEPTH) -> Any:
    """``wrap`` applied ``depth`` times, without recursion."""
    for _ in range(depth):
        leaf = wrap(leaf)
    return leaf


def rule_chain() -> str:
    rules = [f'a{i} ::= "(" a{i + 1} ")"' for i in range(DEPTH)]
    return "\n".join(["root ::= a0", *rules, f'a{DEPTH} ::= "x"'])


def ref_chain() -> Any:
    defs: Dict[str, Any] = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(DEPTH)}
    defs[f"d{DEPTH}"] = {"type": "integer"}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


def key_alternation(count: int) -> Any:
    key = "(" + "|".join(KEY_WORDS[:count]) + ")"
    return {
        "type": "object",
        "patternProperties": {key: {"type": "string"}},
        "additionalProperties": False,
    }


def required_properties(count: int) -> Any:
    names = words(count)
    props = {n: {"type": "integer"} for n in names}
    return {"type": "object", "properties": props, "required": names}


def _exponential_cases() -> List[Case]:
    # The automaton keeps (a|b){n} as a count, so the exponent may show at
    # matching time instead: these matchers are fed 300 characters in full.
    exp20, exp30 = EXPONENTIAL % 20, EXPONENTIAL % 30
    text20, text30 = "ab" * 140 + "a" * 21, "ab" * 135 + "a" * 31
    not20 = {"not": {"pattern": f"^{exp20}$"}}
    not30 = {"not": {"pattern": f"^{exp30}$"}}
    ebnf20 = 'root ::= ("a" | "b")* "a" ("a" | "b"){20}'
    return [
        case("regex_exp20", "regex", exp20, text20, feed_all=True),
        case("regex_exp30", "regex", exp30, text30, feed_all=True),
        case(
            "schema_pattern_exp20",
            "schema",
            string(pattern=f"^{exp20}$"),
            quoted(text20),
            feed_all=True,
        ),
        case(
            "schema_pattern_exp30",
            "schema",
            string(pattern=f"^{exp30}$"),
            quoted(text30),
            feed_all=True,
        ),
        case(
            "schema_pattern_exp20_search",
            "schema",
            string(pattern="a(a|b){20}"),
            quoted(text20),
            feed_all=True,
        ),
        case("schema_not_pattern_exp20", "schema", string(**not20), '"b"'),
        case("schema_not_pattern_exp30", "schema", string(**not30), '"b"'),
        case("ebnf_exp20", "ebnf", ebnf20, text20, feed_all=True),
    ]


def _repetition_cases() -> List[Case]:
    ints = {"type": "integer"}
    return [
        case("regex_a{1e9}", "regex", f"a{{{BIG}}}"),
        case("regex_a{0,1e9}", "regex", f"a{{0,{BIG}}}", "aaaa"),
        case("regex_nested_1000x1000", "regex", "(a{1,1000}){1,1000}", "a" * 50),
        case("ebnf_a{1e9}", "ebnf", f'root ::= "a"{{{BIG}}}'),
        case("schema_maxLength_1e9", "schema", {"type": "string", "maxLength": BIG}, '"abc"'),
        case("schema_minLength_1e9", "schema", {"type": "string", "minLength": BIG}),
        case(
            "schema_maxItems_1e9",
            "schema",
            {"type": "array", "items": ints, "maxItems": BIG},
            "[1, 2]",
        ),
        case("schema_minItems_1e9", "schema", {"type": "array", "items": ints, "minItems": BIG}),
    ]


def _breadth_cases() -> List[Case]:
    return [
        case(
            "ebnf_alt_1e5",
            "ebnf",
            lambda: "root ::= " + " | ".join(f'"{w}"' for w in words(100_000)),
            "w12345",
            what='EBNF `root ::= "w0" | "w1" | ... | "w99999"`',
        ),
        case(
            "regex_alt_1e5",
            "regex",
            lambda: "|".join(words(100_000)),
            "w12345",
            "regex `w0|...|w99999`",
        ),
        case(
            "schema_enum_1e5",
            "schema",
            lambda: {"enum": words(10**5)},
            '"w1234"',
            "schema enum of 10^5 strings",
        ),
        case(
            "schema_enum_1e6",
            "schema",
            lambda: {"enum": words(10**6)},
            '"w123456"',
            "schema enum of 10^6 strings",
        ),
        case(
            "schema_anyof_1e4_consts",
            "schema",
            lambda: {"anyOf": [{"const": w} for w in words(10_000)]},
            '"w1234"',
            "schema anyOf of 10^4 `{const: wI}`",
        ),
        case(
            "schema_properties_1e4",
            "schema",
            lambda: required_properties(10_000),
            '{"w0": 1, "w1": 2',
            "schema object of 10^4 required properties",
        ),
    ]


def _nesting_cases() -> List[Case]:
    def wrap_object(inner: Any) -> Any:
        return {"type": "object", "properties": {"a": inner}, "required": ["a"]}

    def wrap_array(inner: Any) -> Any:
        return {"type": "array", "items": inner}

    parens = "root ::= " + "(" * DEPTH + '"a"' + ")" * DEPTH
    groups = "(" * DEPTH + "a" + ")" * DEPTH
    leaf = {"type": "integer"}
    return [
        case("ebnf_parens_1e4", "ebnf", parens, "a", 'EBNF `root ::= ((...("a")...))` 10^4 deep'),
        case(
            "ebnf_rule_chain_1e4", "ebnf", rule_chain, "(" * 40, 'EBNF `a0 ::= "(" a1 ")"` x 10^4'
        ),
        case("regex_groups_1e4", "regex", groups, "a", "regex `((...(a)...))` 10^4 groups deep"),
        case(
            "schema_properties_deep_1e4",
            "schema",
            lambda: nested(wrap_object, leaf),
            '{"a": ' * 8,
            "schema properties nested 10^4 deep",
        ),
        case(
            "schema_items_deep_1e4",
            "schema",
            lambda: nested(wrap_array, leaf),
            "[" * 8,
            "schema array items nested 10^4 deep",
        ),
        case("schema_ref_chain_1e4", "schema", ref_chain, "42", "schema $ref chain of 10^4 $defs"),
    ]


def _number_cases() -> List[Case]:
    # Built by arithmetic: Python refuses to convert strings of over 4,300 digits to int.
    nines = 10**10_000 - 1
    ones = (10**5_000 - 1) // 9
    huge, multiple_of_7 = 10**300, 7 * (10**40 // 7 + 1)
    return [
        case(
            "schema_minimum_1e308", "schema", {"type": "number", "minimum": 1e308}, "1" + "0" * 308
        ),
        case("schema_multipleOf_1e-300", "schema", {"type": "number", "multipleOf": 1e-300}, "0.5"),
        case(
            "schema_exclusiveMaximum_1e4_digits",
            "schema",
            {"type": "number", "exclusiveMaximum": nines},
            "12",
            "schema number exclusiveMaximum 10**10000 - 1 (10,000 digits)",
        ),
        case(
            "schema_const_5000_digits",
            "schema",
            {"type": "integer", "const": ones},
            "1" * 5_000,
            "schema integer const 111...1 (5,000 digits)",
        ),
        case(
            "schema_integer_range_1e300",
            "schema",
            {"type": "integer", "minimum": -huge, "maximum": huge + 12345},
            "-123",
            "schema integer in [-10**300, 10**300 + 12345]",
        ),
        case(
            "schema_multipleOf_7_range_1e40",
            "schema",
            {"type": "integer", "multipleOf": 7, "minimum": 10**40, "maximum": 10**41},
            str(multiple_of_7),
            "schema integer multipleOf 7 in [10**40, 10**41]",
        ),
    ]


def _pattern_property_cases() -> List[Case]:
    return [
        case(
            f"schema_pattern_key_{count}",
            "schema",
            key_alternation(count),
            '{"xbravoy": "v"}',
            f"schema patternProperties key `(alpha|bravo|...)`, {count} words, unanchored, "
            "additionalProperties false",
        )
        for count in (6, 10, 14, 18)
    ]


def _matching_cases() -> List[Case]:
    cases = [
        case(
            f"accepts_nested_counted_{n}",
            "accepts",
            NESTED_COUNTED,
            "a" * n,
            f"`from_regex('{NESTED_COUNTED}').accepts('a' * {n})`",
        )
        for n in (100, 200, 300)
    ]
    schema = {"type": "string", "pattern": f"^{NESTED_COUNTED}$"}
    what = f"schema pattern `^{NESTED_COUNTED}$`, a matcher fed 300 a's token by token"
    cases.append(case("schema_nested_counted_300", "schema", schema, quoted("a" * 300), what, True))
    # An optional b in the unit keeps the counts from folding into one.
    for n in (1200, 2400):
        what = f"`from_regex('{NESTED_UNFOLDABLE}').accepts('a' * {n})`"
        cases.append(
            case(f"accepts_nested_unfoldable_{n}", "accepts", NESTED_UNFOLDABLE, "a" * n, what)
        )
    schema = {"type": "string", "pattern": f"^{NESTED_UNFOLDABLE}$"}
    what = f"schema pattern `^{NESTED_UNFOLDABLE}$`, a matcher fed 1200 a's token by token"
    sample = quoted("a" * 1200)
    cases.append(case("schema_nested_unfoldable_1200", "schema", schema, sample, what, True))
    return cases


def _extra_cases() -> List[Case]:
    all_of = string(allOf=[{"pattern": f"a.{{{k}}}"} for k in (6, 7, 8, 9)])
    unique = {"type": "array", "items": {"enum": words(20)}, "uniqueItems": True}
    return [
        case("ebnf_left_recursion", "ebnf", 'root ::= root "a" | "a"', "aaaa"),
        case(
            "ebnf_literal_10mb",
            "ebnf",
            lambda: 'root ::= "' + "ab" * 5_000_000 + '"',
            "abababab",
            "EBNF one string literal of 10 MB",
        ),
        case("schema_self_ref", "schema", {"$ref": "#"}),
        case("schema_allof_search_patterns", "schema", all_of, quoted("a" * 12)),
        case(
            "schema_uniqueItems_enum_20",
            "schema",
            unique,
            '["w1", "w2"',
            "schema uniqueItems array of an enum of 20 strings",
        ),
        case("regex_unicode_dot_5000", "regex", ".{0,5000}", "héllo wörld"),
        case(
            "accepts_json_brackets_1e6",
            "accepts_json",
            None,
            lambda: "[" * 1_000_000 + "]" * 1_000_000,
            "builtin JSON grammar `accepts('[' * 10**6 + ']' * 10**6)`",
        ),
        *(
            case(
                f"accepts_ambiguous_cfg_{2 * n}",
                "accepts_ebnf",
                AMBIGUOUS,
                "ab" * n,
                f"ambiguous EBNF `{AMBIGUOUS_SHOWN}` `accepts('ab' * {n})`",
            )
            for n in (500, 1000)
        ),
        case(
            "ebnf_ambiguous_cfg_fed_1000",
            "ebnf",
            AMBIGUOUS,
            "ab" * 500,
            f"ambiguous EBNF `{AMBIGUOUS_SHOWN}`, a matcher fed 'ab' * 500 token by token",
            feed_all=True,
        ),
        case(  # each step costlier than the last, until one passes max_step_work
            "ebnf_ambiguous_cfg_fed_4000",
            "ebnf",
            AMBIGUOUS,
            "ab" * 2000,
            f"ambiguous EBNF `{AMBIGUOUS_SHOWN}`, a matcher fed 'ab' * 2000 token by token",
            feed_all=True,
        ),
    ]


def all_cases() -> List[Case]:
    """Every case, in table order."""
    return [
        *_exponential_cases(),
        *_repetition_cases(),
        *_breadth_cases(),
        *_nesting_cases(),
        *_number_cases(),
        *_pattern_property_cases(),
        *_matching_cases(),
        *_extra_cases(),
    ]
