"""Differential test of xgram's XGrammar drop-in against the real ``xgrammar`` 0.2.9.

Same inputs on both sides, two comparisons (issue 18, item 4):

1. **Acceptance** of whole strings. xgram: ``Grammar.accepts``; XGrammar: the body of
   ``xgrammar.testing._is_grammar_accept_string`` (a matcher over an empty vocabulary that
   may end without a stop token), with its compile hoisted out of the per-string loop.
2. **Masks along token walks.** Each walk text is tokenized with the Llama-3 tokenizer; both
   sides get ``TokenizerInfo.from_huggingface`` (xgram with ``special_tokens_as_text=True``,
   XGrammar's special-token semantics; both with XGrammar's stop tokens, so that a
   difference in stop-token detection, reported once, does not show up in every mask). Before
   every token both fill a bitmask; both accept the token; one more fill after the last.

Inputs: 300 MaskBench schemas drawn with a fixed seed from ``shared/`` (the even half of
JSONSchemaBench), 50 regexes, the EBNF files of ``grammars/``, 40 structural tags covering
every format and model templates from ``xgrammar.get_model_structural_tag``. Options are the
serving defaults on both sides (JSON: ``any_whitespace=True``, ``strict_mode=True``); a
schema xgram refuses with ``SchemaError`` is retried with ``lenient=True``, as the drop-in
does, and counted separately.

Strings: MaskBench instances (three spellings each), schema-minded edits of valid instances,
hypothesis ``from_regex`` examples, example files, texts sampled by walking *either* side's
masks over a one-character-per-token vocabulary (hinted with a structural tag's literal
strings), and single-character mutations of all of these.

Every disagreement is classified (see ``differential_xgrammar_classify.py``): a string
disagreement directly; a mask disagreement through a *witness*, a text that starts with the
prefix and the disputed token and that the allowing side completes. Verdicts: ``xgram_wrong``
(the oracle sides with XGrammar), ``unresolved`` (no oracle decides), ``xgrammar_inexact``
(the oracle sides with xgram; the reason is named) and ``by_design`` (xgram's whitespace cap,
``lenient`` drops). The first two are the target-zero columns.

xgram's side runs through ``xgram/compat`` (``python -m xgram.compat`` prints the directory
to put first on the path) when it exists, in a worker whose ``import xgrammar`` is the
drop-in; until then through xgram's own API with the same options. Each side runs in a
worker process; a grammar that takes more than ``--budget`` seconds is skipped and counted.

Run from the repository root::

    python benchmarks/differential_xgrammar.py                       # the full run
    python benchmarks/differential_xgrammar.py --json /tmp/diff.json # + every disagreement
    python benchmarks/differential_xgrammar.py --families regex,ebnf --limit 5
    python benchmarks/differential_xgrammar.py --xgram-api native    # xgram's own API
"""

from __future__ import annotations

import os

for _var, _val in (
    ("OMP_NUM_THREADS", "1"),
    ("TOKENIZERS_PARALLELISM", "false"),
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
):
    os.environ.setdefault(_var, _val)

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from differential_xgrammar_classify import (  # noqa: E402
    BY_DESIGN,
    UNRESOLVED,
    VERDICTS,
    XGRAM_WRONG,
    XGRAMMAR_INEXACT,
    classify,
)
from differential_xgrammar_engines import (  # noqa: E402
    EngineError,
    GrammarTimeout,
    LocalSide,
    WorkerSide,
    load_hf_tokenizer,
)
from differential_xgrammar_inputs import (  # noqa: E402
    TOKENIZER_DIR,
    ebnf_cases,
    hint_strings,
    json_mutations,
    json_spellings,
    maskbench_sample,
    regex_cases,
    regex_examples,
    text_mutations,
)
from differential_xgrammar_tags import model_template_cases, structural_tag_cases  # noqa: E402

FAMILIES = ("json_schema", "regex", "ebnf", "structural_tag", "model_template")
SEVERITY = {XGRAM_WRONG: 3, UNRESOLVED: 2, XGRAMMAR_INEXACT: 1, BY_DESIGN: 0}


@dataclass
class Settings:
    """How much of everything: the full run's defaults; the test passes smaller ones."""

    num_schemas: int = 300
    seed: int = 0
    budget_s: float = 10.0
    regex_examples: int = 15
    samples_per_side: int = 4
    mutations: int = 2
    max_strings: int = 150
    max_walks: int = 8
    max_walk_tokens: int = 400
    max_analyses: int = 12
    limit: Optional[int] = None  # cases per family
    families: Tuple[str, ...] = FAMILIES


@dataclass
class CaseResult:
    family: str
    id: str
    status: str = "compared"  # or xgram_refuses, xgrammar_refuses, both_refuse, timeout, error
    detail: str = ""
    lenient: bool = False
    strings: int = 0
    walks: int = 0
    masks: int = 0
    mask_steps_differing: int = 0
    unanalysed_steps: int = 0
    truncated: bool = False  # the time budget ran out during the walks
    seconds: float = 0.0
    disagreements: List[Dict[str, Any]] = field(default_factory=list)


class OverBudget(Exception):
    """The case's time budget ran out between two requests."""


class Differential:
    """Runs cases on the two sides and classifies what they disagree on."""

    def __init__(self, sides: Dict[str, Any], hf_tokenizer: Any, settings: Settings) -> None:
        self.xgram, self.xgrammar = sides["xgram"], sides["xgrammar"]
        self.tok = hf_tokenizer
        self.settings = settings
        self.deadline = 0.0
        self._token_text: Dict[int, str] = {}

    # requests to both sides ------------------------------------------------------
    def _remaining(self) -> float:
        left = self.deadline - time.perf_counter()
        if left <= 0:
            raise OverBudget()
        return left

    def both(self, method: str, *args: Any) -> Tuple[Any, Any]:
        """(xgram's answer, XGrammar's answer); both sides work at the same time."""
        self._remaining()
        self.xgram.send(method, *args)
        self.xgrammar.send(method, *args)
        answers: List[Any] = []
        failure: Optional[BaseException] = None
        for side in (self.xgram, self.xgrammar):
            wait = self.deadline - time.perf_counter()
            if failure is not None:  # drain the other side rather than kill it too
                wait = max(wait, 60.0)
            try:
                answers.append(side.receive(max(wait, 0.01)))
            except (GrammarTimeout, EngineError) as exc:
                failure = failure or exc
                answers.append(None)
        if failure is not None:
            raise failure
        return answers[0], answers[1]

    def one(self, side: Any, method: str, *args: Any) -> Any:
        timeout = self._remaining()
        side.send(method, *args)
        return side.receive(timeout)

    # a case ----------------------------------------------------------------------
    def run_case(self, case: Dict[str, Any]) -> CaseResult:
        result = CaseResult(case["family"], case["id"])
        for side in (self.xgram, self.xgrammar):
            side.ensure_started()  # a restart after a timeout is not the next case's time
        started = time.perf_counter()
        self.deadline = started + self.settings.budget_s
        rng = random.Random(f"{self.settings.seed}:{case['id']}")
        try:
            if case.get("source") is None:
                result.status, result.detail = "error", case.get("setup_error", "no source")
            else:
                self._run(case, result, rng)
        except (GrammarTimeout, OverBudget):
            result.status = "timeout"
            result.detail = f"over {self.settings.budget_s:g} s"
        except EngineError as exc:
            result.status, result.detail = "error", str(exc)[:300]
        result.seconds = time.perf_counter() - started
        return result

    def _run(self, case: Dict[str, Any], result: CaseResult, rng: random.Random) -> None:
        mine, theirs = self.both("compile", case["kind"], case["source"])
        if not (mine["ok"] and theirs["ok"]):
            result.status = {
                (False, True): "xgram_refuses",
                (True, False): "xgrammar_refuses",
                (False, False): "both_refuse",
            }[(mine["ok"], theirs["ok"])]
            result.detail = mine.get("error") or theirs.get("error") or ""
            if not mine["ok"] and not theirs["ok"]:
                result.detail = f"xgram: {mine['error']} | XGrammar: {theirs['error']}"
            return
        result.lenient = bool(mine.get("lenient"))
        compiled = {"xgram_lenient": result.lenient, "xgrammar_log": theirs.get("log", [])}
        hints = hint_strings(case["source"]) if case["kind"] == "structural_tag" else []
        strings, walk_texts = self._strings(case, rng, hints)
        result.strings = len(strings)
        mine_ok, theirs_ok = self.both("accepts", strings)
        for text, a, b in zip(strings, mine_ok, theirs_ok):
            if a != b:
                verdict, reason, oracle = self._classify(case, text, a, b, compiled)
                result.disagreements.append(
                    {"type": "string", "text": text, "xgram": a, "xgrammar": b}
                    | {"verdict": verdict, "reason": reason, "oracle": oracle}
                )
        accepted = {t for t, a, b in zip(strings, mine_ok, theirs_ok) if a or b}
        walks = [t for t in walk_texts if t in accepted or case["kind"] == "json_schema"]
        walks += [t for t in strings if t in accepted and t not in walks]
        self._walks(case, result, walks[: self.settings.max_walks], compiled, hints, rng)

    # strings -------------------------------------------------------------------------
    def _strings(
        self, case: Dict[str, Any], rng: random.Random, hints: List[str]
    ) -> Tuple[List[str], List[str]]:
        """(strings to compare, texts to walk first) for a case."""
        s = self.settings
        strings: List[str] = []
        walks: List[str] = []
        if case["kind"] == "json_schema":
            for valid, data in case["instances"]:
                spellings = json_spellings(data)
                strings += spellings
                walks.append(spellings[0])
                if valid:
                    strings += json_mutations(data, rng, s.mutations)
                    strings += text_mutations(spellings[0], rng, s.mutations)
        elif case["kind"] == "regex":
            examples = regex_examples(case["source"], s.regex_examples)
            walks += examples
            strings += examples
            for text in examples:
                strings += text_mutations(text, rng, 1)
        else:
            for valid, text in case.get("examples", []):
                strings.append(text)
                strings += text_mutations(text, rng, s.mutations)
                if valid:
                    walks.append(text)
        seeds = [rng.randrange(1 << 30) for _ in range(s.samples_per_side)]
        mine, theirs = self.both("sample", b"", seeds, hints)
        for text in [t for t in mine + theirs if t is not None]:
            strings.append(text)
            strings += text_mutations(text, rng, 1)
            walks.append(text)
        strings = list(dict.fromkeys(strings))
        if len(strings) > s.max_strings:
            keep = set(walks)
            rest = [t for t in strings if t not in keep]
            strings = [t for t in strings if t in keep] + rng.sample(
                rest, max(0, s.max_strings - len(keep))
            )
        return strings, list(dict.fromkeys(walks))

    # walks -----------------------------------------------------------------------------
    def _walks(
        self,
        case: Dict[str, Any],
        result: CaseResult,
        texts: Sequence[str],
        compiled: Dict[str, Any],
        hints: List[str],
        rng: random.Random,
    ) -> None:
        seen: Dict[Tuple[Tuple[int, ...], Tuple[int, ...]], Tuple[str, str]] = {}
        for text in texts:
            tokens = self.tok.encode(text, add_special_tokens=False)[
                : self.settings.max_walk_tokens
            ]
            try:
                self._walk(case, result, text, tokens, compiled, hints, rng, seen)
            except (OverBudget, GrammarTimeout):
                # Out of time after the strings: keep the walks done so far.
                result.truncated = True
                return

    def _walk(
        self,
        case: Dict[str, Any],
        result: CaseResult,
        text: str,
        tokens: List[int],
        compiled: Dict[str, Any],
        hints: List[str],
        rng: random.Random,
        seen: Dict[Tuple[Tuple[int, ...], Tuple[int, ...]], Tuple[str, str]],
    ) -> None:
        """Walk one text on both sides; analyse the steps whose masks differ."""
        mine, theirs = self.both("walk", tokens)
        result.walks += 1
        steps = min(len(mine["digests"]), len(theirs["digests"]))
        result.masks += steps
        for side, walk in (("xgram", mine), ("xgrammar", theirs)):
            if walk["inconsistent"]:
                result.disagreements.append(
                    {"type": "mask_accept", "side": side, "walk": text}
                    | {"steps": walk["inconsistent"][:5]}
                    | {"verdict": XGRAM_WRONG if side == "xgram" else XGRAMMAR_INEXACT}
                    | {"reason": f"{side}: accept_token disagrees with its own mask"}
                )
        for step in range(steps):
            if mine["digests"][step] == theirs["digests"][step]:
                continue
            result.mask_steps_differing += 1
            self._analyse_step(case, result, text, tokens, step, compiled, hints, rng, seen)

    def _analyse_step(
        self,
        case: Dict[str, Any],
        result: CaseResult,
        text: str,
        tokens: List[int],
        step: int,
        compiled: Dict[str, Any],
        hints: List[str],
        rng: random.Random,
        seen: Dict[Tuple[Tuple[int, ...], Tuple[int, ...]], Tuple[str, str]],
    ) -> None:
        """Name the tokens only one side allows at ``step`` and classify each kind of them."""
        prefix = tokens[:step]
        mine, theirs = self.both("mask_at", prefix)
        a = np.unpackbits(np.frombuffer(mine, np.uint8), bitorder="little")
        b = np.unpackbits(np.frombuffer(theirs, np.uint8), bitorder="little")
        only_mine = tuple(int(i) for i in np.flatnonzero(a & ~b & 1))
        only_theirs = tuple(int(i) for i in np.flatnonzero(b & ~a & 1))
        key = (only_mine, only_theirs)
        if key in seen or len(seen) >= self.settings.max_analyses:
            if key not in seen:
                result.unanalysed_steps += 1
            return
        record: Dict[str, Any] = {
            "type": "mask",
            "walk": text,
            "step": step,
            "prefix_tail": self.tok.decode(prefix)[-60:],
            "only_xgram": [len(only_mine), [self._text(t) for t in only_mine[:8]]],
            "only_xgrammar": [len(only_theirs), [self._text(t) for t in only_theirs[:8]]],
            "groups": [],
        }
        for side_name, ids in (("xgram", only_mine), ("xgrammar", only_theirs)):
            for group, members in self._groups(ids).items():
                record["groups"].append(
                    self._witness(
                        case, (prefix, tokens[step:]), side_name, members, compiled, hints, rng
                    )
                    | {"group": group}
                )
        worst = max(record["groups"], key=lambda g: SEVERITY[g["verdict"]])
        record["verdict"], record["reason"] = worst["verdict"], worst["reason"]
        seen[key] = (record["verdict"], record["reason"])
        result.disagreements.append(record)

    def _groups(self, ids: Sequence[int]) -> Dict[str, List[int]]:
        groups: Dict[str, List[int]] = {}
        for t in ids:
            text = self._text(t)
            kind = "whitespace" if text and text.isspace() else "other"
            if text.startswith("<|") and text.endswith("|>"):
                kind = "special"
            groups.setdefault(kind, []).append(t)
        return groups

    def _witness(
        self,
        case: Dict[str, Any],
        around: Tuple[List[int], List[int]],
        side_name: str,
        members: List[int],
        compiled: Dict[str, Any],
        hints: List[str],
        rng: random.Random,
    ) -> Dict[str, Any]:
        """Classify tokens only ``side_name`` allows after ``around[0]`` through a witness text.

        ``around`` is (the walk's tokens before the step, the walk's tokens from it on). The
        witness replaces the walk's token with the disputed one; failing that (a token inside
        a string that must still spell a pattern, say), it inserts it before the walk's token.
        """
        prefix, walk_rest = around
        rest = walk_rest[1:]
        side = self.xgram if side_name == "xgram" else self.xgrammar
        candidates = list(dict.fromkeys([members[0], rng.choice(members), members[-1]]))
        out: Dict[str, Any] = {"allowed_by": side_name, "count": len(members)}
        for token in candidates:
            seeds = [rng.randrange(1 << 30) for _ in range(3)]
            found = self.one(side, "witness", prefix, token, rest, seeds, hints)
            out["token"] = self._text(token)
            if found["utf8"] == "invalid":
                # No text to show: the allowing side lets the output stop being UTF-8.
                who = "XGrammar" if side_name == "xgrammar" else "xgram"
                verdict = XGRAMMAR_INEXACT if side_name == "xgrammar" else XGRAM_WRONG
                reason = f"{who} allows a token that makes the text invalid UTF-8"
                return out | {"verdict": verdict, "reason": reason}
            witness = found["text"]
            if witness is None:  # inserted rather than replacing: the walk's rest as it is
                witness = self.one(side, "witness", prefix, token, walk_rest, [], hints)["text"]
            if witness is None:
                continue
            (mine,), (theirs,) = self.both("accepts", [witness])
            out |= {"witness": witness, "xgram": mine, "xgrammar": theirs}
            if mine == theirs:
                # Both accept: the side that masked the token out accepts a text through it.
                # Both reject: the allowing side's mask leads to a text it rejects itself.
                other = "xgrammar" if side_name == "xgram" else "xgram"
                culprit = other if mine else side_name
                verdict = XGRAM_WRONG if culprit == "xgram" else XGRAMMAR_INEXACT
                why = "masks out a token of a text it accepts" if mine else "allows a token "
                why += "" if mine else "(or the end) only leading to texts it rejects"
                name = "XGrammar" if culprit == "xgrammar" else "xgram"
                return out | {"verdict": verdict, "reason": f"{name}'s mask {why}"}
            verdict, reason, oracle = self._classify(case, witness, mine, theirs, compiled)
            return out | {"verdict": verdict, "reason": reason, "oracle": oracle}
        return out | {"verdict": UNRESOLVED, "reason": "no witness completed"}

    def _classify(
        self, case: Dict[str, Any], text: str, mine: bool, theirs: bool, compiled: Dict[str, Any]
    ) -> Tuple[str, str, Optional[Dict[str, Any]]]:
        """Verdict, reason and oracle answer for a text the sides disagree on."""
        divergence = None
        if case["kind"] == "structural_tag":
            rejecting = self.xgrammar if mine else self.xgram
            divergence = self.one(rejecting, "viable_length", text)
        (verdict, reason), oracle = classify(case, text, mine, theirs, compiled, divergence)
        if divergence is not None:  # kept in the report: where the rejecting side stops
            oracle = {**(oracle or {}), "divergence": divergence}
        return verdict, reason, oracle

    def _text(self, token: int) -> str:
        if token not in self._token_text:
            self._token_text[token] = self.tok.decode([token])
        return self._token_text[token]


# ----------------------------------------------------------------------------
# inputs, sides, report


def load_cases(settings: Settings) -> List[Dict[str, Any]]:
    makers = {
        "json_schema": lambda: maskbench_sample(settings.num_schemas, settings.seed),
        "regex": regex_cases,
        "ebnf": ebnf_cases,
        "structural_tag": structural_tag_cases,
        "model_template": model_template_cases,
    }
    cases: List[Dict[str, Any]] = []
    for family in settings.families:
        cases += makers[family]()[: settings.limit]
    return cases


def compat_directory() -> Optional[str]:
    """The drop-in's directory (``python -m xgram.compat``), or None while it does not exist."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "xgram.compat"], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not Path(lines[-1]).is_dir():
        return None
    return lines[-1]


def xgram_spec(api: str) -> Dict[str, Any]:
    """How to run xgram's side: through the drop-in when it exists (or is asked for)."""
    directory = compat_directory() if api in ("auto", "compat") else None
    if api == "compat" and directory is None:
        raise SystemExit("xgram.compat is not available (python -m xgram.compat failed)")
    if directory is not None:
        return {"api": "xgrammar", "name": "xgram", "path_first": directory, "via": "compat"}
    return {"api": "xgram", "name": "xgram", "via": "native"}


def start_sides(xgram: Dict[str, Any], own_stops: bool) -> Dict[str, WorkerSide]:
    """XGrammar's worker first: its stop tokens are given to xgram's (unless ``own_stops``)."""
    theirs = WorkerSide({"api": "xgrammar", "name": "xgrammar"}, str(TOKENIZER_DIR), None)
    info = theirs.start()
    stops = None if own_stops else info["stop_token_ids"]
    mine = WorkerSide(xgram, str(TOKENIZER_DIR), stops)
    mine.start()
    return {"xgram": mine, "xgrammar": theirs}


def local_sides(hf_tokenizer: Any) -> Dict[str, LocalSide]:
    """Both sides in this process: the real xgrammar and xgram's own API (the test's mode)."""
    theirs = LocalSide({"api": "xgrammar", "name": "xgrammar"}, hf_tokenizer, None)
    mine = LocalSide({"api": "xgram", "name": "xgram"}, hf_tokenizer, theirs.info["stop_token_ids"])
    return {"xgram": mine, "xgrammar": theirs}


def summarize(results: Sequence[CaseResult]) -> List[Dict[str, Any]]:
    """One row per family: counts of inputs, outcomes and disagreement verdicts."""
    rows = []
    for family in dict.fromkeys(r.family for r in results):
        rs = [r for r in results if r.family == family]
        compared = [r for r in rs if r.status == "compared"]
        row: Dict[str, Any] = {"family": family, "inputs": len(rs), "both_compile": len(compared)}
        for status in ("xgram_refuses", "xgrammar_refuses", "both_refuse", "timeout", "error"):
            row[status] = sum(r.status == status for r in rs)
        row["lenient"] = sum(r.lenient for r in compared)
        row["strings"] = sum(r.strings for r in compared)
        row["walks"] = sum(r.walks for r in compared)
        row["masks"] = sum(r.masks for r in compared)
        row["mask_steps_differing"] = sum(r.mask_steps_differing for r in compared)
        row["unanalysed_steps"] = sum(r.unanalysed_steps for r in compared)
        row["truncated"] = sum(r.truncated for r in compared)
        for kind in ("string", "mask"):
            for verdict in VERDICTS:
                row[f"{kind}:{verdict}"] = sum(
                    1
                    for r in compared
                    for d in r.disagreements
                    if d["type"].startswith(kind) and d["verdict"] == verdict
                )
        reasons: Counter = Counter()
        for r in compared:
            for d in r.disagreements:
                reasons[(d["verdict"], d["reason"])] += 1
        row["reasons"] = [[v, why, n] for (v, why), n in reasons.most_common()]
        rows.append(row)
    return rows


def print_table(rows: Sequence[Dict[str, Any]], results: Sequence[CaseResult]) -> None:
    head = (
        f"{'family':<15}{'inputs':>7}{'both':>6}{'refuse':>8}{'timeout':>8}{'strings':>9}"
        f"{'masks':>8}{'str:open':>10}{'str:expl':>10}{'mask:open':>11}{'mask:expl':>11}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        refuse = f"{row['xgram_refuses']}/{row['xgrammar_refuses']}/{row['both_refuse']}"
        exact = {
            k: row[f"{k}:{XGRAM_WRONG}"] + row[f"{k}:{UNRESOLVED}"] for k in ("string", "mask")
        }
        loose = {
            k: row[f"{k}:{XGRAMMAR_INEXACT}"] + row[f"{k}:{BY_DESIGN}"] for k in ("string", "mask")
        }
        print(
            f"{row['family']:<15}{row['inputs']:>7}{row['both_compile']:>6}{refuse:>8}"
            f"{row['timeout']:>8}{row['strings']:>9}{row['masks']:>8}{exact['string']:>10}"
            f"{loose['string']:>10}{exact['mask']:>11}{loose['mask']:>11}"
        )
    print(
        "refuse = xgram refuses / XGrammar refuses / both; strings, masks = compared; "
        "open = xgram_wrong + unresolved (target 0 where XGrammar is exact); expl = explained: "
        "xgrammar_inexact (XGrammar loose or narrow, reason named) + by_design; mask columns "
        "count differing masks analysed (the same token sets once per grammar)"
    )
    for row in rows:
        print(
            f"\n{row['family']}: lenient {row['lenient']}, walks {row['walks']}, "
            f"mask steps differing {row['mask_steps_differing']} "
            f"(unanalysed {row['unanalysed_steps']}), walks cut by the budget in "
            f"{row['truncated']} grammars, errors {row['error']}"
        )
        for verdict, why, n in row["reasons"]:
            print(f"  {n:>5}  {verdict:<17} {why[:110]}")
        for r in results:
            if r.family == row["family"] and r.status != "compared":
                print(f"  [{r.status}] {r.id}: {r.detail[:150]}")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--num-schemas", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=10.0, help="seconds per grammar")
    p.add_argument("--limit", type=int, default=None, help="cases per family")
    p.add_argument("--xgram-api", choices=("auto", "compat", "native"), default="auto")
    p.add_argument("--own-stop-tokens", action="store_true", help="each side detects its own")
    p.add_argument("--json", help="write every case and disagreement here")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    families = tuple(f for f in args.families.split(",") if f)
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise SystemExit(f"unknown families {sorted(unknown)}; choose from {FAMILIES}")
    settings = Settings(
        num_schemas=args.num_schemas,
        seed=args.seed,
        budget_s=args.budget,
        limit=args.limit,
        families=families,
    )
    started = time.perf_counter()
    cases = load_cases(settings)
    spec = xgram_spec(args.xgram_api)
    sides = start_sides(spec, args.own_stop_tokens)
    mine, theirs = sides["xgram"].info, sides["xgrammar"].info
    print(
        f"xgram via {spec['via']}; stop tokens: XGrammar {theirs['stop_token_ids']}, "
        f"xgram's own {mine['own_stop_token_ids']}, compared with {mine['stop_token_ids']}; "
        f"{len(cases)} cases",
        file=sys.stderr,
    )
    diff = Differential(sides, load_hf_tokenizer(str(TOKENIZER_DIR)), settings)
    results = []
    try:
        for k, case in enumerate(cases):
            results.append(diff.run_case(case))
            r = results[-1]
            print(
                f"[{k + 1}/{len(cases)}] {r.family} {r.id}: {r.status} {r.seconds:.1f}s "
                f"strings={r.strings} masks={r.masks} disagreements={len(r.disagreements)}",
                file=sys.stderr,
            )
    finally:
        for side in sides.values():
            side.close()
    rows = summarize(results)
    print_table(rows, results)
    print(
        f"\n{len(cases)} cases in {time.perf_counter() - started:.0f} s "
        f"(worker restarts: {sum(s.restarts for s in sides.values())})"
    )
    if args.json:
        doc = {
            "settings": vars(args),
            "xgram_side": spec,
            "sides": {name: side.info for name, side in sides.items()},
            "table": rows,
            "cases": [vars(r) for r in results],
        }
        Path(args.json).write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
