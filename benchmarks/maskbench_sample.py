"""The MaskBench sample for ``maskbench.py``: which records, read and tokenised.

``load_sample`` picks the records (``--num-schemas`` drawn with ``--seed``, or
all of them, or the ids of ``--schemas-from``; with ``--include-untested`` also
the records without test instances) and reads them in sample order;
``prepare`` serialises each instance as compact JSON and tokenises it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

SCHEMA_DIR = (
    Path(__file__).resolve().parents[2] / "shared" / "schemas" / "jsonschemabench-maskbench"
)


@dataclass
class Record:
    id: str
    subset: str
    schema: Any
    tests: List[Dict[str, Any]]
    token_ids: List[List[int]]


def _data_files() -> List[Path]:
    files = sorted(SCHEMA_DIR.glob("*.jsonl.gz"))
    if not files:
        raise SystemExit(f"no *.jsonl.gz under {SCHEMA_DIR}")
    return files


def _has_tests(rec: Dict[str, Any]) -> bool:
    tests = rec.get("tests")
    return isinstance(tests, list) and any(isinstance(t, dict) and "data" in t for t in tests)


def _read_ids(path: str) -> List[str]:
    """Ids from a ``--json`` output, or one per line (first word; ``#`` comments)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "sample" in doc:
        return [s["id"] for s in doc["sample"]]
    ids = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            ids.append(line.split()[0])
    return ids


def load_sample(args: argparse.Namespace) -> List[Dict[str, Any]]:
    """The sampled records (parsed), in sample order."""
    subsets = set(args.subset.split(",")) if args.subset else None
    wanted = _read_ids(args.schemas_from) if args.schemas_from else None
    eligible: List[Tuple[int, int, str]] = []  # (file index, line number, id)
    files = _data_files()
    for fi, path in enumerate(files):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for ln, line in enumerate(fh):
                rec = json.loads(line)
                if subsets is not None and rec.get("subset") not in subsets:
                    continue
                if args.include_untested or _has_tests(rec):
                    eligible.append((fi, ln, rec["id"]))
    if wanted is not None:
        pos = {rid: k for k, (_, _, rid) in enumerate(eligible)}
        missing = [w for w in wanted if w not in pos]
        if missing:
            print(
                f"warning: {len(missing)} requested id(s) not found: {missing[:5]}", file=sys.stderr
            )
        chosen = [eligible[pos[w]] for w in dict.fromkeys(wanted) if w in pos]
    elif args.num_schemas == "all":
        chosen = eligible
    else:
        n = min(args.num_schemas, len(eligible))
        chosen = [eligible[k] for k in random.Random(args.seed).sample(range(len(eligible)), n)]
    by_file: Dict[int, Dict[int, int]] = defaultdict(dict)
    for order, (fi, ln, _) in enumerate(chosen):
        by_file[fi][ln] = order
    out: List[Optional[Dict[str, Any]]] = [None] * len(chosen)
    for fi, lines in by_file.items():
        with gzip.open(files[fi], "rt", encoding="utf-8") as fh:
            for ln, line in enumerate(fh):
                if ln in lines:
                    out[lines[ln]] = json.loads(line)
    kind = "records" if args.include_untested else "records with tests"
    print(f"{len(eligible)} {kind}; sampled {len(chosen)}", file=sys.stderr)
    return [r for r in out if r is not None]


def prepare(raw: List[Dict[str, Any]], hf_tok: Any) -> List[Record]:
    recs = []
    for r in raw:
        tests = [t for t in r["tests"] if isinstance(t, dict) and "data" in t]
        ids = [
            hf_tok.encode(
                json.dumps(t["data"], separators=(",", ":"), ensure_ascii=False),
                add_special_tokens=False,
            )
            for t in tests
        ]
        recs.append(Record(r["id"], r.get("subset", "?"), r["schema"], tests, ids))
    return recs
