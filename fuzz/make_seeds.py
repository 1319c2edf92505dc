"""Write the fuzz targets' seed inputs.

``python fuzz/make_seeds.py seeds`` rewrites the small committed seed sets in
``fuzz/seeds/<target>/`` from files of this repository (and, for
``fuzz_deserialize``, from serialisations made with the installed xgram).

``python fuzz/make_seeds.py corpus TARGET`` adds seeds drawn from the MaskBench
schemas in ``../shared`` (when present) to ``fuzz/corpus/TARGET/``, the ignored
working corpus: whole schemas for ``fuzz_json_schema``, their ``pattern`` values
for ``fuzz_regex``. ``fuzz/run.sh`` calls it when a corpus is first created.

Every seed starts with the mode byte its target reads first (see each target's
docstring).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

FUZZ_DIR = Path(__file__).resolve().parent
REPO = FUZZ_DIR.parent
MASKBENCH = REPO.parent / "shared" / "schemas" / "jsonschemabench-maskbench"

HANDWRITTEN_REGEXES = [
    r"[a-z]+",
    r"^\d{4}-\d{2}-\d{2}$",
    r"(?:ab|a)*b?",
    r"[^\s@]+@[^\s@]+\.[a-z]{2,}",
    r"\p{L}+",
    r"[\u00e9-\u00ff]{1,3}",
    r"a{2,5}?x|y{3}",
    r"(?<year>\d{4})-(?P<month>\d\d)",
    r"[\w.-]+",
    r".*\.json",
    r"(a|b|)+c",
    r"\x41\u0042\cJ",
    r"[\]\[\\-]",
    r"^(?:[01]\d|2[0-3]):[0-5]\d$",
]

HANDWRITTEN_SCHEMAS: List[Any] = [
    {"type": "object", "properties": {"a": {"type": "integer", "minimum": -3}}, "required": ["a"]},
    {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 1, "maxItems": 4},
    {"anyOf": [{"type": "null"}, {"type": "number", "multipleOf": 0.5}]},
    {"type": "string", "pattern": "^[a-c]{2,4}$"},
    {"type": "string", "format": "date-time"},
    {"enum": ["x", 1, None, True, {"k": [1]}]},
    {"const": {"a": [1, 2]}},
    {"$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"},
    {"type": "object", "patternProperties": {"^x-": {"type": "boolean"}}, "minProperties": 1},
    {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "propertyNames": {"maxLength": 2},
    },
    {"allOf": [{"type": "integer", "exclusiveMinimum": 0}, {"maximum": 1000}]},
    {"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "string"}], "items": False},
    {"oneOf": [{"type": "string", "minLength": 2}, {"type": "string", "maxLength": 1}]},
    {"not": {"type": "string"}},
    {"if": {"type": "integer"}, "then": {"minimum": 5}, "else": {"type": "string"}},
    {"type": "object", "dependentRequired": {"a": ["b"]}, "properties": {"a": {}, "b": {}}},
    {"type": ["string", "null"], "enum": ["a", None]},
    True,
    {"type": "string", "contentEncoding": "base64"},
    {"type": "number", "minimum": 1e300, "maximum": 1.7e308},
]

HANDWRITTEN_METADATA = [
    {
        "vocab_type": 0,
        "vocab_size": 300,
        "add_prefix_space": False,
        "stop_token_ids": [290],
        "special_token_ids": [291],
    },
    {"vocab_type": 1, "vocab_size": 296, "add_prefix_space": True, "stop_token_ids": []},
    {"vocab_type": 2, "vocab_size": 256, "add_prefix_space": False, "stop_token_ids": [0, 1]},
]

SERIALISED_GRAMMARS = [
    'root ::= "a"+',
    'root ::= "{" [a-c]* "}" | "null"',
    'root ::= [^\\n]{0,40} - ("ab" [^]*)',
    'root ::= item ("," item)*\nitem ::= [0-9]+ (= [,x])\n',
]


def _write(directory: Path, payloads: List[bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for payload in payloads:
        name = hashlib.sha1(payload).hexdigest()[:16]
        (directory / name).write_bytes(payload)


def _random_seeds(mode: int, count: int, length: int, seed: int) -> List[bytes]:
    rng = random.Random(seed)
    return [bytes([mode]) + rng.randbytes(length) for _ in range(count)]


def ebnf_seeds() -> List[bytes]:
    """Mode 0: the repository's example grammars; modes 1-2: random generator bytes."""
    files = sorted((REPO / "grammars").glob("*.ebnf"))
    files += sorted((REPO / "tests" / "data" / "llama_cpp_grammars").glob("*.gbnf"))
    texts = [f.read_bytes() for f in files if f.stat().st_size <= 4096]
    return [b"\x00" + t for t in texts] + _random_seeds(1, 8, 64, seed=1)


def regex_seeds() -> List[bytes]:
    """Mode 0: hand-written patterns; modes 1-2: random generator bytes."""
    texts = [p.encode() for p in HANDWRITTEN_REGEXES]
    return [b"\x00" + t for t in texts] + _random_seeds(1, 8, 48, seed=2)


def json_schema_seeds() -> List[bytes]:
    """The option byte 0 (defaults), then a hand-written schema."""
    return [b"\x00" + json.dumps(s).encode() for s in HANDWRITTEN_SCHEMAS]


def deserialize_seeds() -> List[bytes]:
    """Mode 0: real serialisations; modes 1-2: edit programs; mode 3: tokenizer metadata."""
    sys.path.insert(0, str(FUZZ_DIR))
    from fuzz_support import small_tokenizer

    import xgram

    compiler = xgram.GrammarCompiler(small_tokenizer(), precompute=True, max_threads=1)
    texts = [compiler.compile_grammar(g).serialize_json().encode() for g in SERIALISED_GRAMMARS]
    seeds = [b"\x00" + t for t in texts if len(t) <= 16384]
    seeds += _random_seeds(1, 6, 40, seed=3) + _random_seeds(2, 6, 40, seed=4)
    seeds += [b"\x03" + json.dumps(m).encode() for m in HANDWRITTEN_METADATA]
    return seeds


def matcher_seeds() -> List[bytes]:
    """Random operation programs (the whole input is read by a FuzzedDataProvider)."""
    return _random_seeds(0, 12, 96, seed=5)


SEEDS = {
    "fuzz_ebnf": ebnf_seeds,
    "fuzz_regex": regex_seeds,
    "fuzz_json_schema": json_schema_seeds,
    "fuzz_deserialize": deserialize_seeds,
    "fuzz_matcher": matcher_seeds,
}


def maskbench_rows() -> Iterator[Dict[str, Any]]:
    """Every MaskBench row (id, schema, ...), or nothing without ../shared."""
    for path in sorted(MASKBENCH.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


def patterns_in(node: Any) -> Iterator[str]:
    """The ``pattern`` strings anywhere in a schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            yield from patterns_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from patterns_in(value)


def maskbench_corpus(target: str, limit: int = 400, max_bytes: int = 6000) -> List[bytes]:
    """Up to ``limit`` seeds from MaskBench for the schema and regex targets."""
    rng = random.Random(6)
    if target == "fuzz_json_schema":
        texts = [json.dumps(row["schema"]).encode() for row in maskbench_rows()]
        texts = [t for t in texts if len(t) <= max_bytes]
    elif target == "fuzz_regex":
        texts = sorted({p.encode() for row in maskbench_rows() for p in patterns_in(row["schema"])})
        texts = [t for t in texts if len(t) <= 512]
    else:
        return []
    rng.shuffle(texts)
    return [b"\x00" + t for t in texts[:limit]]


def main(argv: List[str]) -> int:
    """Command line: ``seeds`` or ``corpus TARGET``."""
    if argv[:1] == ["seeds"]:
        for target, make in SEEDS.items():
            _write(FUZZ_DIR / "seeds" / target, make())
        return 0
    if len(argv) == 2 and argv[0] == "corpus" and argv[1] in SEEDS:
        _write(FUZZ_DIR / "corpus" / argv[1], maskbench_corpus(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
