"""MaskBench results: per-engine summaries, the side-by-side table, subsets and failures.

Split out of ``maskbench.py`` (which runs the engines in worker processes): these functions
only read the result records that run collected.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

Result = Dict[str, Any]


def _pct(a: np.ndarray, q: float) -> Optional[float]:
    return float(np.percentile(a, q)) if a.size else None


def summarize(results: Dict[str, Result], ids: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    sel = [results[i] for i in (ids if ids is not None else results) if i in results]
    st = Counter(r["status"] for r in sel)
    times = np.asarray([t for r in sel for t in r.get("times_us", [])], dtype=np.float64)
    # Compile times of every schema that compiled, also those that then timed out.
    comp = np.asarray(
        [r["compile_ms"] for r in sel if r.get("compile_ms") is not None], dtype=np.float64
    )
    ttfm = np.asarray([r["ttfm_ms"] for r in sel if r.get("ttfm_ms") is not None], np.float64)
    s: Dict[str, Any] = {
        "schemas": len(sel),
        "pass": st["pass"],
        "compile_error": st["compile_error"],
        "timeout": st["timeout"],
        "crash": st["crash"],
        "val_schemas": sum(1 for r in sel if r.get("validation_errors")),
        "val_instances": sum(r.get("validation_errors", 0) for r in sel),
        "inval_schemas": sum(1 for r in sel if r.get("invalidation_errors")),
        "inval_instances": sum(r.get("invalidation_errors", 0) for r in sel),
        "exceptions": sum(r.get("exceptions", 0) for r in sel),
        "mismatches": sum(len(r.get("mismatches", [])) for r in sel),
        "tokens": int(times.size),
        "mask_mean": float(times.mean()) if times.size else None,
        "compiled": int(comp.size),
        "compile_mean": float(comp.mean()) if comp.size else None,
        "ttfm_mean": float(ttfm.mean()) if ttfm.size else None,
    }
    for q in (50, 90, 99, 99.9):
        s[f"mask_p{q:g}"] = _pct(times, q)
    s["mask_max"] = float(times.max()) if times.size else None
    for q in (50, 90, 99):
        s[f"compile_p{q}"] = _pct(comp, q)
        s[f"ttfm_p{q}"] = _pct(ttfm, q)
    s["compile_max"] = float(comp.max()) if comp.size else None
    s["ttfm_max"] = float(ttfm.max()) if ttfm.size else None
    return s


def _f(v: Optional[float], digits: int = 1) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.3g}x"


ROWS: List[Tuple[str, Any]] = [
    ("schemas", lambda s: str(s["schemas"])),
    ("passing", lambda s: str(s["pass"])),
    ("compile errors", lambda s: str(s["compile_error"])),
    ("timeouts / crashes", lambda s: f"{s['timeout']} / {s['crash']}"),
    ("validation errors: schemas (inst.)", lambda s: f"{s['val_schemas']} ({s['val_instances']})"),
    (
        "invalidation errors: schemas (inst.)",
        lambda s: f"{s['inval_schemas']} ({s['inval_instances']})",
    ),
    ("matcher exceptions (inst.)", lambda s: str(s["exceptions"])),
    ("mask/accept mismatches", lambda s: str(s["mismatches"])),
    ("tokens measured", lambda s: f"{s['tokens']:,}"),
    ("mask mean µs", lambda s: _f(s["mask_mean"])),
    ("mask p50 µs", lambda s: _f(s["mask_p50"])),
    ("mask p90 µs", lambda s: _f(s["mask_p90"])),
    ("mask p99 µs", lambda s: _f(s["mask_p99"])),
    ("mask p99.9 µs", lambda s: _f(s["mask_p99.9"])),
    ("mask max µs", lambda s: _f(s["mask_max"])),
    ("compiled schemas", lambda s: str(s["compiled"])),
    ("compile mean ms", lambda s: _f(s["compile_mean"], 2)),
    ("compile p50 ms", lambda s: _f(s["compile_p50"], 2)),
    ("compile p90 ms", lambda s: _f(s["compile_p90"], 2)),
    ("compile p99 ms", lambda s: _f(s["compile_p99"], 2)),
    ("compile max ms", lambda s: _f(s["compile_max"], 2)),
    ("first mask mean ms", lambda s: _f(s["ttfm_mean"], 2)),
    ("first mask p50 ms", lambda s: _f(s["ttfm_p50"], 2)),
    ("first mask p99 ms", lambda s: _f(s["ttfm_p99"], 2)),
]


def print_table(doc: Dict[str, Any]) -> None:
    engines = list(doc["engines"])
    sums: Dict[str, Optional[Dict[str, Any]]] = {}
    for e in engines:
        ed = doc["engines"][e]
        sums[e] = None if ed.get("unavailable") else summarize(ed["schemas"])
    w0 = max(len(r[0]) for r in ROWS)
    w = max(10, *(len(e) for e in engines))
    print("| " + "metric".ljust(w0) + " | " + " | ".join(e.rjust(w) for e in engines) + " |")
    print("|" + "-" * (w0 + 2) + "|" + "|".join("-" * (w + 1) + ":" for _ in engines) + "|")
    for label, fn in ROWS:
        cells = [(fn(sums[e]) if sums[e] is not None else "n/a").rjust(w) for e in engines]
        print("| " + label.ljust(w0) + " | " + " | ".join(cells) + " |")
    print_subsets(doc, engines)
    for e in engines:
        if doc["engines"][e].get("unavailable"):
            print(f"\n{e}: unavailable: {doc['engines'][e]['unavailable']}")
    if "xgram" in sums and sums["xgram"] is not None:
        x_res = doc["engines"]["xgram"]["schemas"]
        for peer in engines:
            if peer == "xgram" or sums[peer] is None:
                continue
            p_res = doc["engines"][peer]["schemas"]
            common = [
                i
                for i in x_res
                if i in p_res
                and x_res[i].get("ttfm_ms") is not None
                and p_res[i].get("ttfm_ms") is not None
            ]
            a, b = sums["xgram"], sums[peer]
            ca, cb = summarize(x_res, common), summarize(p_res, common)
            assert a is not None and b is not None
            print(
                f"\nxgram / {peer}: mask mean {_ratio(a['mask_mean'], b['mask_mean'])}, "
                f"p99 {_ratio(a['mask_p99'], b['mask_p99'])}, "
                f"compile p50 {_ratio(a['compile_p50'], b['compile_p50'])}"
                f"   | on the {len(common)} schemas both compiled: "
                f"mask mean {_ratio(ca['mask_mean'], cb['mask_mean'])}, "
                f"p99 {_ratio(ca['mask_p99'], cb['mask_p99'])}, "
                f"compile p50 {_ratio(ca['compile_p50'], cb['compile_p50'])}"
            )


def print_subsets(doc: Dict[str, Any], engines: List[str]) -> None:
    """Passing schemas per subset and engine."""
    subset_of = {s["id"]: s["subset"] for s in doc["sample"]}
    total = Counter(subset_of.values())
    passed: Dict[str, Counter] = {e: Counter() for e in engines}
    for e in engines:
        for sid, r in doc["engines"][e]["schemas"].items():
            if r["status"] == "pass":
                passed[e][subset_of.get(sid, "?")] += 1
    w0 = max(len("subset"), *(len(k) for k in total))
    w = max(10, *(len(e) for e in engines))
    print(
        "\n| "
        + "subset".ljust(w0)
        + " | schemas | "
        + " | ".join(e.rjust(w) for e in engines)
        + " |"
    )
    sep = "|".join("-" * (w + 1) + ":" for _ in engines)
    print("|" + "-" * (w0 + 2) + "|--------:|" + sep + "|")
    for sub, n in total.most_common():
        cells = [
            (str(passed[e][sub]) if not doc["engines"][e].get("unavailable") else "n/a").rjust(w)
            for e in engines
        ]
        print("| " + sub.ljust(w0) + f" | {n:7d} | " + " | ".join(cells) + " |")


_NORMALIZE = [
    (re.compile(r"#/[^\s:,'\"]*"), "#/…"),  # JSON pointers
    (re.compile(r"(?<![A-Za-z])\d+(\.\d+)?"), "N"),  # numbers
    (re.compile(r"\"[^\"]{24,}\"|'[^']{24,}'"), "'…'"),  # long quoted values
]


def _group_key(msg: str) -> str:
    key = msg.strip().splitlines()[0] if msg.strip() else msg
    for pat, rep in _NORMALIZE:
        key = pat.sub(rep, key)
    return key[:160]


def print_failures(doc: Dict[str, Any], engine: str) -> None:
    ed = doc["engines"].get(engine)
    if ed is None:
        print(f"\n## failures of {engine}: engine not in this run")
        return
    if ed.get("unavailable"):
        print(f"\n## failures of {engine}: unavailable ({ed['unavailable']})")
        return
    groups: Dict[Tuple[str, str], List[Tuple[str, str]]] = defaultdict(list)
    failing = 0
    for sid, r in ed["schemas"].items():
        if r["status"] == "pass":
            continue
        failing += 1
        if r["status"] in ("compile_error", "timeout", "crash"):
            groups[(r["status"], _group_key(r.get("error", "")))].append((sid, r.get("error", "")))
            continue
        for f in r.get("failures", []):
            if f["kind"] == "validation":
                detail = (
                    f"test #{f['test']}: refused token #{f['at']}/{f['tokens']} "
                    f"{f['token']!r} after …{f['context']!r}: {f['message']}"
                )
                key = _group_key(f["message"])
            elif f["kind"] == "invalidation":
                detail = (
                    f"test #{f['test']} ({f['description']}): expected error: "
                    f"{f['expected_error']}; data {f['data'][:160]}"
                )
                key = f"should fail: {_group_key(f['expected_error'])[:60]}"
            else:
                detail = f"test #{f['test']}: {f['message']}"
                key = _group_key(f["message"])
            groups[(f["kind"] + " error", key)].append((sid, detail))
    print(f"\n## failures of {engine}: {failing} of {len(ed['schemas'])} schemas")
    order = sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1]))
    for (kind, key), items in order:
        n_schemas = len({sid for sid, _ in items})
        print(f"\n[{kind}] {key}   ({n_schemas} schema(s))")
        for sid, detail in items:
            print(f"  {sid}: {detail[:400]}")


# ----------------------------------------------------------------------------
