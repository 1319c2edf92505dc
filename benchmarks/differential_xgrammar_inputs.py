"""Inputs of the XGrammar differential: grammars, and strings to try on them.

Grammars: MaskBench JSON schemas (``shared/`` holds the even half of JSONSchemaBench: even
positions of each subset in sorted order; the odd half is held out), the regexes below
(JSON-schema ``pattern`` values and regexes sent to vLLM's guided decoding), the EBNF files of
``grammars/``, the structural tags below (every format of XGrammar 0.2.9's JSON form) and
model templates from ``xgrammar.get_model_structural_tag``.

Strings: MaskBench instances, hypothesis ``from_regex`` examples, mutations of both, and texts
sampled by walking either side's masks (done by the engines).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SCHEMA_DIR = SHARED / "schemas" / "jsonschemabench-maskbench"
TOKENIZER_DIR = SHARED / "tokenizers" / "llama3"
GRAMMAR_DIR = REPO_ROOT / "grammars"

Case = Dict[str, Any]  # {"family", "id", "kind", "source", "strings": [...], "valid": [...]}

# ----------------------------------------------------------------------------
# regexes

# Realistic patterns: JSON-schema ``pattern`` values (anchored) and vLLM guided-regex
# requests (whole-output patterns, unanchored; both engines match them in full).
REGEXES: List[str] = [
    r"^\d{3}-\d{3}-\d{4}$",
    r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$",
    r"^\d{4}-\d{2}-\d{2}$",
    r"^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?$",
    r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$",
    r"^https?://[^\s/$.?#].[^\s]*$",
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$",
    r"^#?([a-fA-F0-9]{6}|[a-fA-F0-9]{3})$",
    r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$",
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+)?$",
    r"^[A-Z][a-z]+(?: [A-Z][a-z]+)*$",
    r"^\+?[1-9]\d{1,14}$",
    r"^[A-Z]{3}$",
    r"^-?\d+(\.\d{1,2})?$",
    r"^(true|false)$",
    r"^[a-zA-Z_][a-zA-Z0-9_]*$",
    r"^\$\{[A-Z_]+\}$",
    r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    r"^[0-9]{5}(?:-[0-9]{4})?$",
    r"^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$",
    r"^[a-z]{2}(-[A-Z]{2})?$",
    r"^(\d+(\.\d+)?)(ms|s|m|h)$",
    r"^P(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$",
    r"^[^<>]*$",
    r"^\S+$",
    r"^.+$",
    r"^[\w.-]+$",
    r"^(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day$",
    r"^\d{1,3}(,\d{3})*(\.\d+)?$",
    r"^(?:\(\d{3}\)|\d{3})[- ]?\d{3}-\d{4}$",
    r"^[a-z]+://[^/]+(/[^?#]*)?(\?[^#]*)?(#.*)?$",
    r"^[0-9]+(px|em|rem|%)$",
    r"^(\w+\s?){1,5}$",
    r"^[^\s@]+@[^\s@]+$",
    r"(yes|no|maybe)",
    r"\d+",
    r"[A-Za-z ]{1,50}\.",
    r"(Positive|Negative|Neutral)",
    r'\{"name": "[a-z_]+", "age": \d{1,3}\}',
    r"\w+@\w+\.com\n",
    r"((25[0-5]|(2[0-4]|1\d|[1-9]|)\d)\.){3}(25[0-5]|(2[0-4]|1\d|[1-9]|)\d)",
    r"[a-z0-9]{3,10}(-[a-z0-9]{3,10}){0,3}",
    r"Answer: [A-D]",
    r"Step \d: [^\n]{1,40}\n(Step \d: [^\n]{1,40}\n){0,3}Final answer: \d+",
    r".{0,20}",
    r"[\u4e00-\u9fff]{1,8}",
    r'[^\x00-\x1f"\\]{0,30}',
    r"(?:[a-z]+\s){2,4}[a-z]+",
    r"<b>.*?</b>",
]

_ECMA_SPACE = (
    "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_ECMA_CLASS = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_SPACE}


def ecma_to_python(pattern: str) -> Optional[str]:
    r"""The regex with ECMA-262 meanings in Python's syntax, or None where unsure.

    ECMA-262: ``.`` matches any character but the line terminators ``\n \r \u2028 \u2029``
    (Python's only excludes ``\n``); ``\d \w`` are ASCII and ``\s`` is Unicode's space
    separators plus the line terminators and BOM (Python's differ in both directions).
    """
    out: List[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in _ECMA_CLASS:
                body = _ECMA_CLASS[nxt]
                out.append(body if in_class else f"[{body}]")
            elif nxt.lower() in _ECMA_CLASS and nxt.isupper():
                if in_class:
                    return None  # a negated escape inside a class: not expressible simply
                out.append(f"[^{_ECMA_CLASS[nxt.lower()]}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]" or pattern[i + 1 : i + 3] == "^]":
                return None
        elif ch == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def regex_examples(pattern: str, count: int) -> List[str]:
    """``count`` derandomised hypothesis ``from_regex`` examples that fully match ``pattern``."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    python = ecma_to_python(pattern)
    found: List[str] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.from_regex(re.compile(python or pattern), fullmatch=True))
    def collect(text: str) -> None:
        found.append(text)

    collect()
    return list(dict.fromkeys(found))


# ----------------------------------------------------------------------------
# mutations

_MUTATION_CHARS = list('",:{}[]01-.eE aZ\\\n\t\r') + ["\u00e9", "\u2028", "\x01"]


def text_mutations(text: str, rng: random.Random, count: int) -> List[str]:
    """``count`` single edits of ``text``: delete, insert, replace, duplicate or swap."""
    out: List[str] = []
    for _ in range(count):
        s = list(text)
        op = rng.randrange(5)
        pos = rng.randrange(len(s) + 1)
        if op == 0 and s:
            del s[min(pos, len(s) - 1)]
        elif op == 1 or not s:
            s.insert(pos, rng.choice(_MUTATION_CHARS))
        elif op == 2:
            s[min(pos, len(s) - 1)] = rng.choice(_MUTATION_CHARS)
        elif op == 3:
            end = min(len(s), pos + rng.randint(1, 6))
            s[pos:pos] = s[pos:end]
        elif len(s) > 1:
            k = min(pos, len(s) - 2)
            s[k], s[k + 1] = s[k + 1], s[k]
        out.append("".join(s))
    return out


def _json_edit(value: Any, rng: random.Random) -> Any:
    """One schema-minded edit somewhere in a JSON value (may return the value unchanged)."""
    if isinstance(value, dict) and value and rng.random() < 0.6:
        key = rng.choice(list(value))
        edited = dict(value)
        edited[key] = _json_edit(value[key], rng)
        return edited
    if isinstance(value, list) and value and rng.random() < 0.6:
        k = rng.randrange(len(value))
        return value[:k] + [_json_edit(value[k], rng)] + value[k + 1 :]
    if isinstance(value, dict):
        choice = rng.randrange(3)
        if choice == 0 and value:  # drop a (maybe required) key
            key = rng.choice(list(value))
            return {k: v for k, v in value.items() if k != key}
        if choice == 1 and len(value) > 1:  # another property order
            items = list(value.items())
            rng.shuffle(items)
            return dict(items)
        return {**value, "extra_key": 1}  # an undeclared property
    if isinstance(value, list):
        return value + value[:1] if value else [None]  # duplicates (uniqueItems), maxItems
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return rng.choice([float(value), -value, value * 1000 + 7, "-0", f"{value}e0"])
    if isinstance(value, float):
        return rng.choice([round(value, 7) + 1e-7, -value, 1e-7, int(value)])
    if isinstance(value, str):
        return rng.choice(["", value * 20, value + "\u00e9", value[:1], value.upper(), 5])
    return rng.choice([0, "x", [], {}])


def json_mutations(value: Any, rng: random.Random, count: int) -> List[str]:
    """Compact texts of ``count`` schema-minded edits of ``value``.

    Number spellings that ``json.dumps`` cannot make (``-0``, ``1e0``) are spliced in as text.
    """
    out = []
    for _ in range(count):
        edited = _json_edit(value, rng)
        text = json.dumps(edited, separators=(",", ":"), ensure_ascii=False)
        out.append(re.sub(r'"(-0|-?\d+e0)"', r"\1", text))
    return out


def json_spellings(value: Any) -> List[str]:
    """The same instance spelled compactly, with ``json.dumps``' spacing, and indented."""
    return list(
        dict.fromkeys(
            [
                json.dumps(value, separators=(",", ":"), ensure_ascii=False),
                json.dumps(value, ensure_ascii=False),
                json.dumps(value, indent=2),
            ]
        )
    )


# ----------------------------------------------------------------------------
# grammar families


def maskbench_sample(num: int, seed: int) -> List[Case]:
    """``num`` MaskBench records with instances, drawn with ``random.Random(seed)``.

    ``shared/`` holds only the developers' even half of JSONSchemaBench (its README: even
    positions of each subset in sorted order; the odd half is held out), so the draw is from
    all records there, ordered by (file name, line).
    """
    records: List[Dict[str, Any]] = []
    for path in sorted(SCHEMA_DIR.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                tests = [t for t in rec.get("tests", []) if isinstance(t, dict) and "data" in t]
                if tests:
                    records.append({**rec, "tests": tests})
    chosen = random.Random(seed).sample(records, min(num, len(records)))
    cases = []
    for rec in chosen:
        schema = rec["schema"]
        if isinstance(schema, str):
            schema = json.loads(schema)
        cases.append(
            {
                "family": "json_schema",
                "id": rec["id"],
                "kind": "json_schema",
                "source": schema,
                "instances": [(bool(t["valid"]), t["data"]) for t in rec["tests"]],
            }
        )
    return cases


def regex_cases() -> List[Case]:
    return [
        {"family": "regex", "id": f"re{k:02d}", "kind": "regex", "source": p}
        for k, p in enumerate(REGEXES)
    ]


def ebnf_cases() -> List[Case]:
    """The grammars of ``grammars/*.ebnf`` with their example files (valid_*, invalid_*)."""
    cases = []
    for path in sorted(GRAMMAR_DIR.glob("*.ebnf")):
        examples = []
        for ex in sorted((GRAMMAR_DIR / "examples" / path.stem).glob("*.txt")):
            examples.append((ex.name.startswith("valid"), ex.read_text(encoding="utf-8")))
        cases.append(
            {
                "family": "ebnf",
                "id": path.stem,
                "kind": "ebnf",
                "source": path.read_text(encoding="utf-8"),
                "examples": examples,
            }
        )
    return cases


def hint_strings(fmt: Any) -> List[str]:
    """Literal strings of a structural tag (triggers, begins, ends, constants, separators)."""
    found: List[str] = []
    if isinstance(fmt, dict):
        for key in ("begin", "end", "value", "separator"):
            if isinstance(fmt.get(key), str) and fmt[key]:
                found.append(fmt[key])
        for key in ("triggers", "end"):
            if isinstance(fmt.get(key), list):
                found.extend(s for s in fmt[key] if isinstance(s, str) and s)
        for key, sub in fmt.items():
            if key not in ("json_schema",):
                found.extend(hint_strings(sub))
    elif isinstance(fmt, list):
        for sub in fmt:
            if isinstance(sub, str) and len(fmt) == 2 and sub is fmt[0]:
                found.append(sub)  # a dispatch rule's pattern
            else:
                found.extend(hint_strings(sub))
    return list(dict.fromkeys(found))
