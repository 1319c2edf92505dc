"""Grammars for tests/test_differential.py, written once in the DSL of grammar_dsl.

Most render their xgram EBNF from the DSL. The ``HAND_WRITTEN`` ones carry EBNF
text written by hand in the llama.cpp GBNF style (comments, rules over several
lines, raw UTF-8 classes, ``ws ::= | " "``); their DSL rules are the independent
transcription that lark / regex check them against.
"""

from __future__ import annotations

from grammar_dsl import (
    ANY,
    EMPTY,
    GrammarSpec,
    alt,
    chars,
    cls,
    crange,
    lit,
    ncls,
    opt,
    plus,
    ref,
    rep,
    seq,
    star,
)

S = GrammarSpec

# ---------------------------------------------------------------------------
# Recursion
# ---------------------------------------------------------------------------
LEFT_RECURSION = S(
    "left_recursion",
    {
        "root": ref("expr"),
        "expr": alt(
            seq(ref("expr"), "+", ref("term")), seq(ref("expr"), "-", ref("term")), ref("term")
        ),
        "term": alt(seq(ref("term"), "*", ref("factor")), ref("factor")),
        "factor": alt(plus(cls("0-9")), seq("(", ref("expr"), ")")),
    },
    max_depth=7,
    unbounded_extra=2,
)

RIGHT_RECURSION = S(
    "right_recursion",
    {
        "root": alt(seq(ref("item"), ";", ref("ws"), ref("root")), ref("item")),
        "item": plus(cls("a-c")),
        "ws": alt(EMPTY, seq(" ", ref("ws"))),
    },
    max_depth=10,
)

MUTUAL_RECURSION = S(
    "mutual_recursion",
    {
        "root": ref("a"),
        "a": alt(seq("x", ref("b")), seq("(", ref("a"), ")"), EMPTY),
        "b": alt(seq("y", ref("a")), seq("z", ref("c"))),
        "c": alt(seq("[", ref("a"), "]"), "w", seq(ref("b"), ref("b"))),
    },
    max_depth=8,
)

HIDDEN_LEFT_RECURSION = S(
    "hidden_left_recursion",
    {
        # root -> b root "x": left recursion hidden behind the nullable b.
        "root": alt(seq(ref("b"), ref("root"), "x"), "y"),
        "b": alt(EMPTY, "b"),
    },
    max_depth=10,
)

NULLABLE_LEFT_RECURSION = S(
    "nullable_left_recursion",
    {
        # Dyck language through a nullable, left-recursive rule.
        "root": ref("s"),
        "s": alt(seq(ref("s"), "(", ref("s"), ")"), EMPTY),
    },
    max_depth=6,
)

CYCLIC_UNITS = S(
    "cyclic_units",
    {
        # a -> b -> a: unit-rule cycles.
        "root": ref("a"),
        "a": alt(ref("b"), "a", seq(ref("a"), "+")),
        "b": alt(ref("a"), "b", seq("(", ref("c"), ")")),
        "c": alt(ref("c"), ref("a"), EMPTY),
    },
    max_depth=6,
)

# Tail calls (right recursion) mixed with non-tail calls of the same rule, inside
# counted repetitions, before nullable suffixes and through mutual recursion.
TAIL_AND_NON_TAIL = S(
    "tail_and_non_tail",
    {"root": ref("r"), "r": alt(seq("a", ref("r")), seq("a", ref("r"), "b"), "c")},
    max_depth=10,
)

TAIL_IN_COUNTED = S(
    "tail_in_counted",
    {"root": rep(ref("r"), 2, 3), "r": alt(seq("x", ref("r")), "y", seq("(", ref("r"), ")"))},
    max_depth=8,
)

TAIL_NULLABLE_SUFFIX = S(
    "tail_nullable_suffix",
    {
        "root": seq(ref("r"), opt("!")),
        "r": alt(seq("a", ref("r"), ref("s")), seq("a", ref("t")), "b"),
        "s": alt(EMPTY, "c"),
        "t": alt(ref("r"), EMPTY),
    },
    max_depth=10,
)

TAIL_MUTUAL = S(
    "tail_mutual",
    {
        "root": ref("a"),
        "a": alt(seq("x", ref("b")), EMPTY),
        "b": alt(seq("y", ref("a")), seq("y", ref("a"), "z")),
    },
    max_depth=12,
)

DEEP_NESTING = S(
    "deep_nesting",
    {"root": alt(seq("[", ref("root"), "]"), seq("{", ref("root"), "}"), "x")},
    max_depth=80,
)

# ---------------------------------------------------------------------------
# Nullable rules and empty alternatives
# ---------------------------------------------------------------------------
NULLABLE_RULES = S(
    "nullable_rules",
    {
        "root": seq(
            ref("ws"), ref("item"), star(seq(ref("ws"), ",", ref("ws"), ref("item"))), ref("ws")
        ),
        "ws": alt(EMPTY, " ", seq("\t", ref("ws"))),
        "item": seq(ref("opt-a"), ref("opt-b"), opt("c")),
        "opt-a": alt(EMPTY, "a"),
        "opt-b": alt(ref("opt-a"), seq("b", ref("opt-a"))),
    },
)

NULLABLE_COUNTED = S(
    "nullable_counted",
    {
        # Counted repetitions of nullable expressions.
        "root": seq(
            rep(opt("a"), 3, 5),
            "|",
            rep(alt(EMPTY, "b", "bb"), 2, 3),
            "|",
            rep(ref("z"), 2, None),
            "|",
            rep(seq(opt("c"), opt("d")), 2, 2),
        ),
        "z": alt(EMPTY, "z"),
    },
    style=1,
)

# ---------------------------------------------------------------------------
# Ambiguity
# ---------------------------------------------------------------------------
AMBIGUOUS_SS = S(
    "ambiguous_ss",
    {"root": ref("s"), "s": alt(seq(ref("s"), ref("s")), "a", "b")},
    max_depth=4,
)

AMBIGUOUS_STAR = S(
    "ambiguous_star",
    {
        "root": seq(
            star(alt("a", seq("a", "a"))),
            opt("b"),
            rep(alt("a", "aa", "aaa"), 2, 5),
            star(alt(ref("x"), ref("y"))),
        ),
        "x": plus("c"),
        "y": seq("c", star("c")),
    },
)

AMBIGUOUS_EXPR = S(
    "ambiguous_expr",
    {
        "root": ref("e"),
        "e": alt(
            seq(ref("e"), "+", ref("e")),
            seq(ref("e"), "*", ref("e")),
            seq("-", ref("e")),
            "x",
            seq("(", ref("e"), ")"),
        ),
    },
    max_depth=5,
)

OVERLAPPING_KEYWORDS = S(
    "overlapping_keywords",
    {
        "root": seq(star(seq(ref("kw"), opt(" "))), ref("kw")),
        "kw": alt("i", "if", "iff", "in", "int", "integer", "f", "fi"),
    },
)

# ---------------------------------------------------------------------------
# Bounded repetition
# ---------------------------------------------------------------------------
BOUNDED_SMALL = S(
    "bounded_small",
    {
        "root": seq(
            rep("x", 3, 3),
            "-",
            rep(cls("a-z"), 2, 5),
            "-",
            rep("ab", 0, 40),
            ".",
            rep("q", 2, None),
            rep(alt("c", "d"), 1, 1),
            rep(rep("e", 2, 2), 0, 2),
            rep("n", 0, 0),
        ),
    },
    style=1,
    unbounded_extra=3,
)

BOUNDED_LARGE = S(
    "bounded_large",
    {"root": seq(rep(cls("0-9"), 100, 200), opt(seq(".", rep(cls("0-9a-f"), 30, 120))))},
)

BOUNDED_NESTED = S(
    "bounded_nested",
    {
        # Counted calls of a recursive rule.
        "root": seq("<", ref("list"), ">"),
        "list": rep(seq(ref("elem"), ","), 0, 3),
        "elem": alt(rep(cls("a-c"), 1, 3), ref("root"), rep(ref("root"), 2, 2)),
    },
    max_depth=5,
)

# ---------------------------------------------------------------------------
# Classes, UTF-8, any char, escapes
# ---------------------------------------------------------------------------
STRING_LITERAL = S(
    "string_literal",
    {
        "root": seq(ref("str"), star(seq(",", ref("str")))),
        "str": seq('"', star(alt(ncls('"\\'), seq("\\", cls('"\\/bnrt')))), '"'),
    },
    unbounded_extra=6,
)

UNICODE_CLASSES = S(
    "unicode_classes",
    {
        "root": seq(ref("word"), star(seq(" ", ref("word")))),
        "word": alt(
            plus(crange(0x3B1, 0x3C9)),  # α-ω
            rep(crange(0x4E00, 0x9FFF), 1, 3),  # CJK
            crange(0x1F600, 0x1F64F),  # emoji
            crange(0x7F, 0x81),  # 1/2-byte boundary
            crange(0x7FF, 0x801),  # 2/3-byte boundary
            crange(0xFFFF, 0x10001),  # 3/4-byte boundary
            seq("<", crange(0x70, 0x10010), ">"),  # crosses every boundary
            seq("{", crange(0xD7FF, 0xE000), "}"),  # around the surrogates
            seq("|", crange(0x10FFFE, 0x10FFFF), "|"),
        ),
    },
)

UNICODE_CLASSES_ESCAPED = S(
    "unicode_classes_escaped",
    dict(UNICODE_CLASSES.rules),
    style=1,
)

NEGATED_UNICODE = S(
    "negated_unicode",
    {
        "root": seq(plus(ncls("a-z\u03b1-\u03c9\u0800-\uffff ")), star(seq(" ", ref("w")))),
        "w": alt(plus(ncls("\u0000-\u007f")), plus(cls("a-z"))),
    },
)

ANY_CHAR = S(
    "any_char",
    {
        "root": alt(
            seq("<", rep(ANY, 0, 6), ">"),
            seq("'", ncls("'"), "'"),
            seq("#", star(ANY)),
            seq("(", ANY, star(seq(",", ANY)), ")"),
        ),
    },
)

LITERAL_ESCAPES = S(
    "literal_escapes",
    {
        "root": star(
            alt(
                "\n",
                "\t",
                "\r",
                "\\",
                '"',
                "\x00",
                "\x1b",
                "\x7f",
                "\u00e9",
                "'",
                "\U0001f600",
                "[]",
                "^-",
                "\\n",
                '"\\"',
                "a\u2028b",
                "\u0085",
                cls('\\"]^-'),
                ncls("\x00-\u00ff\u2028"),
            )
        ),
    },
    style=1,
)

LITERAL_ESCAPES_RAW = S(
    "literal_escapes_raw",
    dict(LITERAL_ESCAPES.rules),
    style=0,
)

# ---------------------------------------------------------------------------
# Classic context-free languages
# ---------------------------------------------------------------------------
BALANCED = S(
    "balanced",
    {
        "root": ref("p"),
        "p": star(alt(seq("(", ref("p"), ")"), seq("[", ref("p"), "]"), seq("{", ref("p"), "}"))),
    },
    max_depth=6,
    unbounded_extra=2,
)

PALINDROMES = S(
    "palindromes",
    {"root": ref("p"), "p": alt(seq("a", ref("p"), "a"), seq("b", ref("p"), "b"), "a", "b", EMPTY)},
    max_depth=14,
)

ANBN = S(
    "anbn",
    {"root": seq(ref("s"), star("c")), "s": alt(seq("a", ref("s"), "b"), EMPTY)},
    max_depth=14,
)

LIST_WITH_SEPARATORS = S(
    "list_with_separators",
    {
        "root": seq(
            "[",
            ref("ws"),
            opt(seq(ref("item"), star(seq(ref("ws"), ",", ref("ws"), ref("item"))))),
            ref("ws"),
            "]",
        ),
        "item": alt(plus(cls("a-z")), plus(cls("0-9")), ref("root")),
        "ws": star(" "),
    },
    max_depth=5,
    unbounded_extra=3,
)

ARITHMETIC = S(
    "arithmetic",
    {
        "root": seq(ref("ws"), ref("expr"), ref("ws")),
        "expr": seq(ref("term"), star(seq(ref("ws"), cls("+-"), ref("ws"), ref("term")))),
        "term": seq(ref("factor"), star(seq(ref("ws"), cls("*/%"), ref("ws"), ref("factor")))),
        "factor": seq(
            opt("-"),
            alt(
                ref("number"),
                seq("(", ref("ws"), ref("expr"), ref("ws"), ")"),
                seq(ref("ident"), opt(seq("(", ref("ws"), opt(ref("args")), ref("ws"), ")"))),
            ),
        ),
        "args": seq(ref("expr"), star(seq(ref("ws"), ",", ref("ws"), ref("expr")))),
        "number": seq(plus(cls("0-9")), opt(seq(".", plus(cls("0-9"))))),
        "ident": seq(cls("a-z_"), star(cls("a-z0-9_"))),
        "ws": star(" "),
    },
    max_depth=6,
    unbounded_extra=2,
)

JSON_RULES = {
    "root": seq(ref("ws"), ref("value"), ref("ws")),
    "value": alt(
        ref("object"), ref("array"), ref("string"), ref("number"), "true", "false", "null"
    ),
    "object": seq(
        "{",
        ref("ws"),
        opt(seq(ref("member"), ref("ws"), star(seq(",", ref("ws"), ref("member"), ref("ws"))))),
        "}",
    ),
    "member": seq(ref("string"), ref("ws"), ":", ref("ws"), ref("value")),
    "array": seq(
        "[",
        ref("ws"),
        opt(seq(ref("value"), ref("ws"), star(seq(",", ref("ws"), ref("value"), ref("ws"))))),
        "]",
    ),
    "string": seq('"', star(ref("char")), '"'),
    "char": alt(
        ncls('"\\\x00-\x1f'),
        seq("\\", alt(cls('"\\/bfnrt'), seq("u", rep(cls("0-9a-fA-F"), 4, 4)))),
    ),
    "number": seq(
        opt("-"),
        alt("0", seq(cls("1-9"), star(cls("0-9")))),
        opt(seq(".", plus(cls("0-9")))),
        opt(seq(cls("eE"), opt(cls("+-")), plus(cls("0-9")))),
    ),
    "ws": star(cls(" \t\n\r")),
}

JSON_LIKE = S("json_like", dict(JSON_RULES), max_depth=5, unbounded_extra=3)

IDENTIFIERS = S(
    "identifiers",
    {
        "root": seq(
            ref("id"), star(seq(alt(".", "::"), ref("id"))), opt(seq("[", plus(cls("0-9")), "]"))
        ),
        "id": seq(cls("a-zA-Z_"), rep(cls("a-zA-Z0-9_"), 0, 7)),
    },
)

# ---------------------------------------------------------------------------
# Lookahead assertions (regular, checked against the regex package)
# ---------------------------------------------------------------------------
LOOKAHEAD_UNIT = S(
    "lookahead_unit",
    {
        "root": seq(ref("num"), ref("unit")),
        "num": plus(cls("0-9")),
        "unit": plus(cls("a-z")),
    },
    lookaheads={"num": rep(cls("a-z"), 2, 2)},
)

LOOKAHEAD_REPEATED = S(
    "lookahead_repeated",
    {
        "root": star(seq(ref("word"), ref("digit"))),
        "word": plus(cls("a-c")),
        "digit": cls("0-9"),
    },
    lookaheads={"word": alt("1", "2")},
)

LOOKAHEAD_NESTED = S(
    "lookahead_nested",
    {
        "root": seq(ref("a"), star("z"), opt("y")),
        "a": seq(ref("b"), opt("y")),
        "b": plus("x"),
    },
    lookaheads={"a": "z", "b": alt("y", "zz")},
)

LOOKAHEAD_REFS = S(
    "lookahead_refs",
    {
        "root": star(ref("stmt")),
        "stmt": seq(ref("ident"), ref("ws"), "=", ref("ws"), plus(cls("0-9")), ";", ref("ws")),
        "ident": plus(cls("a-z")),
        "ws": star(" "),
    },
    lookaheads={"ident": seq(ref("ws"), "=")},
)

LOOKAHEAD_CONFLICT = S(
    "lookahead_conflict",
    {
        # After "a", the assertion and the rest of root must agree on more than one
        # character. The branch through `e` is dead: its assertion wants "c" then
        # [cd], the rest of root offers "c" then "e" or the end.
        "root": alt(seq(ref("a"), cls("a-d"), cls("a-d")), seq(ref("e"), "c", opt("e"))),
        "a": cls("ab"),
        "e": lit("e"),
    },
    lookaheads={"a": alt("c", "dd", "bc"), "e": seq("c", cls("cd"))},
)

LOOKAHEAD_ANY = S(
    "lookahead_any",
    {
        "root": star(seq(ref("word"), ";")),
        "word": plus(ncls(";")),
    },
    lookaheads={"word": ";"},
)

LOOKAHEAD_NULLABLE = S(
    "lookahead_nullable",
    {
        # A nullable rule with an assertion, repeated by `*`.
        "root": seq(star(alt(ref("a"), ref("b"))), "z"),
        "a": opt("y"),
        "b": alt("x", "yy"),
    },
    lookaheads={"a": alt("x", "yx")},
)

LOOKAHEAD_COUNTED = S(
    "lookahead_counted",
    {"root": seq(rep(ref("a"), 2, 4), "."), "a": cls("a-c")},
    lookaheads={"a": cls("b-c.")},
)

# Lookaheads in recursive grammars: checked against the brute-force EndsOracle
# (membership only; it has no prefix oracle), on short inputs.
LOOKAHEAD_RIGHT_RECURSION = S(
    "lookahead_right_recursion",
    {
        # Items after a comma must start with "a".
        "root": seq(ref("list"), "."),
        "list": alt(ref("item"), seq(ref("item"), ",", ref("list"))),
        "item": plus(cls("a-c")),
    },
    lookaheads={"item": alt(",a", ".")},
    max_depth=8,
    max_len=40,
)

LOOKAHEAD_TAIL_CALL = S(
    "lookahead_tail_call",
    {
        # r ::= "a" r | "b" is a chain of tail calls; every level of the chain
        # carries r's assertion.
        "root": seq(ref("r"), star(cls("a-c")), "."),
        "r": alt(seq("a", ref("r")), "b"),
    },
    lookaheads={"r": alt("c", "ab")},
    max_depth=12,
    max_len=40,
)

LOOKAHEAD_BALANCED = S(
    "lookahead_balanced",
    {
        "root": seq(ref("p"), "!"),
        "p": star(seq("(", ref("p"), ref("close"))),
        "close": lit(")"),
    },
    lookaheads={"close": alt(")", "!", "((")},
    max_depth=6,
    max_len=40,
    unbounded_extra=2,
)

LOOKAHEAD_LEFT_RECURSION = S(
    "lookahead_left_recursion",
    {
        "root": seq(ref("e"), "=", star(cls("0-9"))),
        "e": alt(seq(ref("e"), "+", ref("t")), ref("t")),
        "t": plus(cls("0-9")),
    },
    lookaheads={"t": alt("+1", "+2", "=")},
    max_depth=8,
    max_len=40,
    unbounded_extra=2,
)

LOOKAHEAD_NULLABLE_TAIL = S(
    "lookahead_nullable_tail",
    {
        "root": seq(ref("r"), "b", ref("r"), "c"),
        "r": alt(seq("a", ref("r")), EMPTY),
    },
    lookaheads={"r": alt("ab", "ac", "b", "c")},
    max_depth=8,
    max_len=40,
)

LOOKAHEAD_SPECS = [
    LOOKAHEAD_UNIT,
    LOOKAHEAD_REPEATED,
    LOOKAHEAD_NESTED,
    LOOKAHEAD_REFS,
    LOOKAHEAD_CONFLICT,
    LOOKAHEAD_ANY,
    LOOKAHEAD_NULLABLE,
    LOOKAHEAD_COUNTED,
    LOOKAHEAD_RIGHT_RECURSION,
    LOOKAHEAD_TAIL_CALL,
    LOOKAHEAD_BALANCED,
    LOOKAHEAD_LEFT_RECURSION,
    LOOKAHEAD_NULLABLE_TAIL,
]

# ---------------------------------------------------------------------------
# Hand-written EBNF in the llama.cpp GBNF style
# ---------------------------------------------------------------------------
GBNF_ARITHMETIC = S(
    "gbnf_arithmetic",
    {
        "root": plus(seq(ref("expr"), "=", ref("ws"), ref("term"), "\n")),
        "expr": seq(ref("term"), star(seq(cls("-+*/"), ref("term")))),
        "term": alt(ref("ident"), ref("num"), seq("(", ref("ws"), ref("expr"), ")", ref("ws"))),
        "ident": seq(cls("a-z"), star(cls("a-z0-9_")), ref("ws")),
        "num": seq(plus(cls("0-9")), ref("ws")),
        "ws": star(cls(" \t\n")),
    },
    ebnf=r"""# llama.cpp grammars/arithmetic.gbnf
root  ::= (expr "=" ws term "\n")+
expr  ::= term ([-+*/] term)*
term  ::= ident | num | "(" ws expr ")" ws
ident ::= [a-z] [a-z0-9_]* ws
num   ::= [0-9]+ ws
ws    ::= [ \t\n]*
""",
    max_depth=5,
    unbounded_extra=2,
)

GBNF_LIST = S(
    "gbnf_list",
    {
        "root": plus(ref("item")),
        "item": seq("- ", plus(ncls("\r\n\x0b\x0c\x85\u2028\u2029")), "\n"),
    },
    ebnf=r"""root ::= item+

# Excludes various line break characters
item ::= "- " [^\r\n\x0b\x0c\x85\u2028\u2029]+ "\n"
""",
)

GBNF_JAPANESE = S(
    "gbnf_japanese",
    {
        "root": seq(plus(ref("jp-char")), star(seq(cls(" \t\n"), plus(ref("jp-char"))))),
        "jp-char": alt(ref("hiragana"), ref("katakana"), ref("punctuation"), ref("cjk")),
        "hiragana": crange(0x3041, 0x309F),
        "katakana": crange(0x30A1, 0x30FF),
        "punctuation": crange(0x3001, 0x303E),
        "cjk": crange(0x4E00, 0x9FFF),
    },
    ebnf="""# A probably incorrect grammar for Japanese
root        ::= jp-char+ ([ \\t\\n] jp-char+)*
jp-char     ::= hiragana | katakana | punctuation | cjk
hiragana    ::= [ぁ-ゟ]
katakana    ::= [ァ-ヿ]
punctuation ::= [、-〾]
cjk         ::= [一-鿿]
""",
)

GBNF_JSON = S(
    "gbnf_json",
    {
        "root": ref("object"),
        "value": alt(
            ref("object"),
            ref("array"),
            ref("string"),
            ref("number"),
            seq(alt("true", "false", "null"), ref("ws")),
        ),
        "object": seq(
            "{",
            ref("ws"),
            opt(
                seq(
                    ref("string"),
                    ":",
                    ref("ws"),
                    ref("value"),
                    star(seq(",", ref("ws"), ref("string"), ":", ref("ws"), ref("value"))),
                )
            ),
            "}",
            ref("ws"),
        ),
        "array": seq(
            "[",
            ref("ws"),
            opt(seq(ref("value"), star(seq(",", ref("ws"), ref("value"))))),
            "]",
            ref("ws"),
        ),
        "string": seq(
            '"',
            star(
                alt(
                    ncls('"\\\x7f\x00-\x1f'),
                    seq("\\", alt(cls('"\\bfnrt'), seq("u", rep(cls("0-9a-fA-F"), 4, 4)))),
                )
            ),
            '"',
            ref("ws"),
        ),
        "number": seq(
            seq(opt("-"), alt(cls("0-9"), seq(cls("1-9"), rep(cls("0-9"), 0, 15)))),
            opt(seq(".", plus(cls("0-9")))),
            opt(seq(cls("eE"), opt(cls("-+")), cls("0-9"), rep(cls("1-9"), 0, 15))),
            ref("ws"),
        ),
        "ws": alt(EMPTY, " ", seq("\n", rep(cls(" \t"), 0, 20))),
    },
    ebnf=r"""root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
""",
    max_depth=5,
    unbounded_extra=3,
)

GBNF_ESCAPES = S(
    "gbnf_escapes",
    {
        "root": star(seq(ref("tok"), opt(" "))),
        "tok": alt(
            "[",
            "]",
            "'",
            '"',
            "\\",
            "/",
            "A",
            "\u00e9",
            "\U0001f600",
            "\t",
            "?*",
            chars("[]\\-^"),
            plus(cls("0-9")),
            seq("{", ncls("}\\"), "}"),
            "(|)",
            "$.",
        ),
    },
    ebnf=r"""root ::= (tok " "?)*   # tokens, optionally separated
tok ::= "\[" | "\]" | "\'" | "\"" | "\\" | "\/" | "\x41" | "\u00e9" | "\U0001F600"
      | "\t" | "\?\*" | [\[\]\\\-^] | [\x30-\x39]+
      | "{" [^}\\] "}" | "\(\|\)" | "\$\."
""",
)

GBNF_LOOKAHEAD = S(
    "gbnf_lookahead",
    {
        "root": seq(ref("ws"), star(ref("pair"))),
        "pair": seq(ref("key"), ":", ref("ws"), ref("val"), ref("ws")),
        "key": plus(cls("a-z")),
        "val": alt(plus(cls("0-9")), plus(cls("a-z"))),
        "ws": star(cls(" \n")),
    },
    lookaheads={"key": ":", "val": alt(" ", "\n")},
    ebnf=r"""# keys must be followed by ':', values by whitespace
root ::= ws pair*
pair ::= key ":" ws val ws
key  ::= [a-z]+ (= ":")
val  ::= [0-9]+ | [a-z]+
  (= " " | "\n")
ws   ::= [ \n]*
""",
)

HAND_WRITTEN = [GBNF_ARITHMETIC, GBNF_LIST, GBNF_JAPANESE, GBNF_JSON, GBNF_ESCAPES, GBNF_LOOKAHEAD]

DSL_SPECS = [
    LEFT_RECURSION,
    RIGHT_RECURSION,
    MUTUAL_RECURSION,
    HIDDEN_LEFT_RECURSION,
    NULLABLE_LEFT_RECURSION,
    CYCLIC_UNITS,
    TAIL_AND_NON_TAIL,
    TAIL_IN_COUNTED,
    TAIL_NULLABLE_SUFFIX,
    TAIL_MUTUAL,
    DEEP_NESTING,
    NULLABLE_RULES,
    NULLABLE_COUNTED,
    AMBIGUOUS_SS,
    AMBIGUOUS_STAR,
    AMBIGUOUS_EXPR,
    OVERLAPPING_KEYWORDS,
    BOUNDED_SMALL,
    BOUNDED_LARGE,
    BOUNDED_NESTED,
    STRING_LITERAL,
    UNICODE_CLASSES,
    UNICODE_CLASSES_ESCAPED,
    NEGATED_UNICODE,
    ANY_CHAR,
    LITERAL_ESCAPES,
    LITERAL_ESCAPES_RAW,
    BALANCED,
    PALINDROMES,
    ANBN,
    LIST_WITH_SEPARATORS,
    ARITHMETIC,
    JSON_LIKE,
    IDENTIFIERS,
]

ALL_SPECS = DSL_SPECS + LOOKAHEAD_SPECS + HAND_WRITTEN

assert len({s.name for s in ALL_SPECS}) == len(ALL_SPECS)
