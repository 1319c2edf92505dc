"""MaskBench results: verdicts, saving and resuming, summaries, tables, failures, reliability.

Split out of ``maskbench.py`` (which runs the engines in worker processes): these functions
classify, store and report the result records that run collected.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

Result = Dict[str, Any]


# ----------------------------------------------------------------------------
# verdicts and storage


def finish(res: Result, rec: Any, hf_tok: Any) -> Result:
    """Classify one engine's result on one schema (a ``maskbench.Record``); add failure details."""
    if "status" in res:  # timeout / crash, from the parent
        return res
    if res["compile_error"] is not None:
        res["status"] = "oom" if is_memory_error(res) else "compile_error"
        res["error"] = res["compile_error"]
        return res
    val = inval = exc = 0
    failures: List[Dict[str, Any]] = []
    for k, inst in enumerate(res["instances"]):
        kind = None
        if "exception" in inst:
            exc += 1
            kind = "exception"
        elif inst["valid"] and not inst["accepted"]:
            val += 1
            kind = "validation"
        elif not inst["valid"] and inst["accepted"]:
            inval += 1
            kind = "invalidation"
        if kind is None:
            continue
        test = rec.tests[k]
        ids = rec.token_ids[k]
        f: Dict[str, Any] = {"test": k, "kind": kind, "tokens": len(ids)}
        if kind == "exception":
            f["message"] = inst["exception"]
        elif kind == "validation":
            at = inst.get("at", len(ids))
            f["message"] = inst.get("why", "")
            f["at"] = at
            f["context"] = hf_tok.decode(ids[max(0, at - 12) : at])
            f["token"] = hf_tok.decode(ids[at : at + 1])
        else:
            err = str(test.get("rust_error") or test.get("python_error") or "")
            f["message"] = "invalid instance accepted"
            f["expected_error"] = err.splitlines()[0][:200] if err else ""
            f["description"] = str(test.get("description", ""))[:120]
        f["data"] = json.dumps(test["data"], separators=(",", ":"), ensure_ascii=False)[:300]
        failures.append(f)
    res["validation_errors"] = val
    res["invalidation_errors"] = inval
    res["exceptions"] = exc
    res["oom_instances"] = sum(1 for i in res["instances"] if is_memory_error(i))
    res["failures"] = failures
    res["status"] = "pass" if not failures else "fail"
    return res


def resume_from(doc: Dict[str, Any], path: str) -> None:
    """Take over the results of a previous run's ``--json`` for the schemas of ``doc``."""
    if not path or not Path(path).exists():
        print(f"resume: no {path or '--json'} yet, starting afresh", file=sys.stderr)
        return
    old = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in ("timeout_s", "mem_limit_gb", "tokenizer"):
        if old["meta"].get(key) != doc["meta"][key]:
            print(
                f"resume: warning: {key} was {old['meta'].get(key)!r}, now {doc['meta'][key]!r}",
                file=sys.stderr,
            )
    ids = {s["id"] for s in doc["sample"]}
    for e, ed in doc["engines"].items():
        prev = old["engines"].get(e, {})
        ed["schemas"] = {i: r for i, r in prev.get("schemas", {}).items() if i in ids}
        ed["worker_restarts"] = prev.get("worker_restarts", 0)
    doc["meta"]["run_segments_s"] = list(old["meta"].get("run_segments_s", []))
    if not doc["meta"]["run_segments_s"] and old["meta"].get("run_s"):
        doc["meta"]["run_segments_s"] = [old["meta"]["run_s"]]
    counts = {e: len(ed["schemas"]) for e, ed in doc["engines"].items()}
    print(f"resume: {counts} schema results taken from {path}", file=sys.stderr)


def write_json(doc: Dict[str, Any], path: str) -> None:
    """Write ``doc`` to ``path`` through a temporary file, so a kill leaves the old one whole."""
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


# ----------------------------------------------------------------------------
# summaries


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
        "oom": st["oom"],
        "oom_instances": sum(r.get("oom_instances", 0) for r in sel),
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
    ("timeouts / crashes / out-of-memory", lambda s: f"{s['timeout']} / {s['crash']} / {s['oom']}"),
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
        if r["status"] in ("compile_error", "timeout", "crash", "oom"):
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
# reliability: every schema


def is_memory_error(res: Dict[str, Any]) -> bool:
    """Whether a result (a schema's or an instance's) says the worker ran out of memory."""
    messages = [res.get("compile_error"), res.get("exception")]
    messages += [i.get("exception") for i in res.get("instances", [])]
    return any(isinstance(m, str) and m.startswith("MemoryError") for m in messages)


# A refusal's cause: the first pattern that matches its message (first line, the JSON
# pointer removed, so that a keyword in the path does not count) names it. The order
# matters: a oneOf whose branch negation ran past the case budget is an overlap of
# branches, and a 'not multipleOf' over the state cap is a multipleOf. The labels are
# the causes of benchmarks/README.md's coverage table.
REFUSAL_CAUSES: List[Tuple[str, re.Pattern[str]]] = [
    (label, re.compile(pattern))
    for label, pattern in [
        ("out of memory (MemoryError)", r"^MemoryError"),
        ("automaton state budget (CompileBudgetError)", r"^CompileBudgetError"),
        ("uniqueItems over open domains", r"^\w+: 'uniqueItems'"),
        ("unsatisfiable (no value satisfies the schema)", r"no JSON value satisfies|unsatisfiable"),
        ("oneOf: overlapping branches", r"^\w+: 'oneOf'.*may both match"),
        ("multipleOf / not multipleOf too large", r"multipleOf"),
        ("not: negation not expressible", r"^\w+: 'not'"),
        ("case budget (intersections of unions)", r"\d+ cases|too many cases"),
        ("regex: backreference / \\b / lookaround", r"in regex:"),
        ("$ref: unresolved / remote / self-reference", r"^\w+: '\$(ref|dynamicRef|recursiveRef)'"),
        ("contains combinations", r"^\w+: 'contains'"),
        ("format not supported", r"^\w+: 'format'"),
    ]
]
_POINTER = re.compile(r" at [#/]\S*?(?=: | \(|$)")
_PARTICULARS = [
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'…'"),
    (re.compile(r"#/[^\s:,'\"]*"), "#/…"),
    (re.compile(r"(?<![A-Za-z])\d+(\.\d+)?"), "N"),
]


def refusal_cause(message: str) -> str:
    """The cause of a compile error: a known class, else its first phrase, particulars blanked."""
    first = message.strip().splitlines()[0] if message.strip() else "(no message)"
    first = _POINTER.sub("", first)
    for label, pattern in REFUSAL_CAUSES:
        if pattern.search(first):
            return label
    keyword = re.match(r"^(\w+: '[^']*')", first)
    rest = first[keyword.end() :] if keyword else first
    for pat, rep in _PARTICULARS:
        rest = pat.sub(rep, rest)
    head = keyword.group(1) if keyword else ""
    return f"other: {head}{re.split(r'[;(]', rest, maxsplit=1)[0].rstrip()[:90]}"


def _engine_results(doc: Dict[str, Any]) -> List[Tuple[str, Dict[str, Result]]]:
    return [(e, ed["schemas"]) for e, ed in doc["engines"].items() if not ed.get("unavailable")]


def print_progress(doc: Dict[str, Any], done: int, todo: int, elapsed_s: float) -> None:
    """One line per engine: schemas done in this run, rate, time left, outcomes so far."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    left = (todo - done) / rate if rate > 0 else float("nan")
    for e, res in _engine_results(doc):
        st = Counter(r["status"] for r in res.values())
        wrong = Counter()
        for r in res.values():
            wrong["val"] += r.get("validation_errors", 0)
            wrong["inval"] += r.get("invalidation_errors", 0)
            wrong["exc"] += r.get("exceptions", 0)
        peak = max((r.get("peak_rss_mb", 0.0) for r in res.values()), default=0.0)
        vm = max((r.get("vm_mb", 0.0) for r in res.values()), default=0.0)
        print(
            f"[progress] {done}/{todo} schemas this run in {elapsed_s:,.0f} s "
            f"({rate:.2f}/s, ~{left / 60:,.0f} min left); {e}: {len(res)} done, "
            + ", ".join(f"{k} {v}" for k, v in sorted(st.items()))
            + f"; valid rejected {wrong['val']}, invalid accepted {wrong['inval']}, "
            f"exceptions {wrong['exc']}; worker peak RSS {peak:,.0f} MiB, "
            f"address space {vm:,.0f} MiB",
            flush=True,
        )


def _reliability_rows(doc: Dict[str, Any], res: Dict[str, Result]) -> List[Tuple[str, str]]:
    sample = {s["id"]: s for s in doc["sample"]}
    ids = [i for i in res if i in sample]
    n_inst = sum(sample[i].get("instances", 0) for i in ids)
    n_valid = sum(sample[i].get("valid", 0) for i in ids)
    tested = sum(1 for i in ids if sample[i].get("instances", 1))
    st = Counter(res[i]["status"] for i in ids)
    run = [res[i] for i in ids]
    ran = sum(len(r.get("instances", [])) for r in run)

    def inst_schemas(key: str) -> str:
        return f"{sum(r.get(key, 0) for r in run)} ({sum(1 for r in run if r.get(key))})"

    crashes = Counter(
        r.get("error", "").rsplit("(", 1)[-1].rstrip(")") for r in run if r["status"] == "crash"
    )
    oom_inst = sum(1 for r in run if r.get("oom_instances"))
    segments = doc["meta"].get("run_segments_s") or [doc["meta"].get("run_s", 0.0)]
    wall = sum(r.get("wall_s", 0.0) for r in run)
    comp = sum(r.get("compile_ms") or 0.0 for r in run) / 1e3
    tok = sum(sum(r.get("times_us", [])) for r in run) / 1e6
    peak = max((r.get("peak_rss_mb", 0.0) for r in run), default=0.0)
    vm = max((r.get("vm_mb", 0.0) for r in run), default=0.0)
    crash_text = f"{st['crash']}" + (
        " (" + ", ".join(f"{k}: {v}" for k, v in crashes.items()) + ")" if crashes else ""
    )
    return [
        ("schemas (with instances + compile only)", f"{len(ids)} ({tested} + {len(ids) - tested})"),
        ("instances (valid / invalid)", f"{n_inst:,} ({n_valid:,} / {n_inst - n_valid:,})"),
        ("tokens in the instances", f"{sum(sample[i].get('tokens', 0) for i in ids):,}"),
        (
            "schemas compiled / passing",
            f"{sum(1 for r in run if r.get('compile_ms') is not None)} / {st['pass']}",
        ),
        ("refusals (compile errors, by cause below)", str(st["compile_error"])),
        ("crashes (segfault, abort, ...)", crash_text),
        ("timeouts", str(st["timeout"])),
        ("out of memory: schemas (+ with an instance's MemoryError)", f"{st['oom']} (+{oom_inst})"),
        ("invalid instances accepted: inst. (schemas)", inst_schemas("invalidation_errors")),
        ("valid instances rejected: inst. (schemas)", inst_schemas("validation_errors")),
        ("matcher exceptions: inst. (schemas)", inst_schemas("exceptions")),
        ("mask/accept mismatches", str(sum(len(r.get("mismatches", [])) for r in run))),
        ("instances run (the rest: schema refused / died)", f"{ran:,} ({n_inst - ran:,})"),
        ("tokens fed", f"{sum(len(r.get('times_us', [])) for r in run):,}"),
        ("wall time: run (segments)", f"{sum(segments):,.0f} s ({len(segments)})"),
        ("wall time: schemas / compiles / tokens", f"{wall:,.0f} / {comp:,.0f} / {tok:,.0f} s"),
        ("worker peak RSS / largest address space", f"{peak:,.0f} / {vm:,.0f} MiB"),
    ]


def print_reliability(doc: Dict[str, Any]) -> None:
    """The every-schema table: failures of every kind, refusals by cause, what died and why."""
    engines = _engine_results(doc)
    if not engines:
        return
    rows = {e: _reliability_rows(doc, res) for e, res in engines}
    labels = [label for label, _ in rows[engines[0][0]]]
    w0 = max(len(x) for x in labels)
    print(
        "\n## Reliability: " + f"timeout {doc['meta'].get('timeout_s')} s, "
        f"address space cap {doc['meta'].get('mem_limit_gb', '?')} GiB per worker\n"
    )
    print("| " + "measure".ljust(w0) + " | " + " | ".join(e for e, _ in engines) + " |")
    print("|" + "-" * (w0 + 2) + "|" + "|".join("--:" for _ in engines) + "|")
    for k, label in enumerate(labels):
        print("| " + label.ljust(w0) + " | " + " | ".join(rows[e][k][1] for e, _ in engines) + " |")
    for e, res in engines:
        causes: Dict[str, List[str]] = defaultdict(list)
        for sid, r in res.items():
            if r["status"] == "compile_error":
                causes[refusal_cause(r.get("error", ""))].append(sid)
        if causes:
            print(f"\n{e}: refusals by cause\n\n| cause | schemas | example |\n|---|--:|---|")
            for cause, sids in sorted(causes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                example = str(res[sids[0]].get("error", ""))[:110].replace("|", "\\|")
                print(f"| {cause} | {len(sids)} | {sids[0]}: {example} |")
        dead = [(sid, r) for sid, r in res.items() if r["status"] in ("crash", "timeout", "oom")]
        for sid, r in dead:
            tail = (r.get("stderr_tail") or "").strip().splitlines()
            last = f"; stderr: {tail[-1][:160]}" if tail else ""
            print(f"{e} {r['status']}: {sid}: {r.get('error', '')}{last}")
