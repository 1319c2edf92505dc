"""MaskBench engines: one adapter per engine (xgram, XGrammar, llguidance), same interface.

Used inside ``maskbench.py``'s worker processes only: each adapter builds its tokenizer
info once, compiles a schema, and fills / accepts along a token sequence.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
LLG_OVERRIDES = {"whitespace_flexible": True}


def package_version(pkg: str) -> str:
    """The installed version of ``pkg``, or ``"?"``."""
    try:
        from importlib.metadata import version

        return version(pkg)
    except Exception:
        return "?"


def memory_mb() -> Dict[str, float]:
    """The worker's address space and resident set now, and its peak resident set (MiB)."""
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/self/statm", encoding="ascii") as fh:
            size, resident = (int(x) for x in fh.read().split()[:2])
        out.update(vm_mb=size * page / 2**20, rss_mb=resident * page / 2**20)
    except (OSError, ValueError):
        pass  # no /proc: the peak alone
    return out


class EngineBase:
    """One engine in a worker: compile a schema, then run fresh matchers on it."""

    name = ""

    def __init__(self, hf_tok: Any, options: Dict[str, Any]) -> None:
        self.vocab_size = len(hf_tok)
        self.eos = int(hf_tok.eos_token_id)
        self.row: np.ndarray = np.zeros(0, np.int32)

    def info(self) -> Dict[str, Any]:
        return {"engine": self.name, "vocab_size": self.vocab_size, "eos": self.eos}

    def compile(self, schema: Any) -> None:
        raise NotImplementedError

    def new_matcher(self) -> None:
        raise NotImplementedError

    def fill(self) -> None:
        raise NotImplementedError

    def accept(self, token: int) -> bool:
        raise NotImplementedError

    def can_end(self) -> Optional[bool]:
        """The engine's own "may stop here" answer (after a fill), if it has one."""
        return None

    def reason(self) -> str:
        """Why the last token was refused, when the engine says (llguidance)."""
        return ""

    def drop(self) -> None:
        raise NotImplementedError

    def allowed(self, token: int) -> bool:
        return bool((int(self.row[token >> 5]) >> (token & 31)) & 1)


class XgramEngine(EngineBase):
    name = "xgram"

    def __init__(self, hf_tok: Any, options: Dict[str, Any]) -> None:
        super().__init__(hf_tok, options)
        sys.path.insert(0, str(REPO_ROOT))
        import xgram

        if not hasattr(xgram.GrammarCompiler, "compile_json_schema"):
            raise AttributeError(
                "xgram.GrammarCompiler has no compile_json_schema (JSON Schema front-end missing)"
            )
        self.xg = xgram
        self.tok_info = xgram.TokenizerInfo.from_huggingface(hf_tok)
        self.precompute = bool(options.get("xgram_precompute"))
        self.compiler = xgram.GrammarCompiler(
            self.tok_info, max_threads=1, cache_enabled=False, precompute=self.precompute
        )
        self.bm = np.zeros(xgram.get_bitmask_shape(1, self.tok_info.vocab_size), np.int32)
        self.row = self.bm[0]
        self.compiled: Any = None
        self.m: Any = None

    def info(self) -> Dict[str, Any]:
        return {
            **super().info(),
            "version": getattr(self.xg, "__version__", "?"),
            "precompute": self.precompute,
            "engine_vocab_size": self.tok_info.vocab_size,
            "stop_token_ids": list(self.tok_info.stop_token_ids),
        }

    def compile(self, schema: Any) -> None:
        self.compiled = self.compiler.compile_json_schema(
            schema, any_whitespace=True, strict_mode=False
        )

    def new_matcher(self) -> None:
        self.m = self.xg.GrammarMatcher(self.compiled)

    def fill(self) -> None:
        self.m.fill_next_token_bitmask(self.bm)

    def accept(self, token: int) -> bool:
        return bool(self.m.accept_token(token))

    def can_end(self) -> Optional[bool]:
        return bool(self.m.is_completed())

    def drop(self) -> None:
        self.compiled = self.m = None


class XgrammarEngine(EngineBase):
    name = "xgrammar"

    def __init__(self, hf_tok: Any, options: Dict[str, Any]) -> None:
        super().__init__(hf_tok, options)
        import xgrammar

        self.xgr = xgrammar
        self.tok_info = xgrammar.TokenizerInfo.from_huggingface(hf_tok, vocab_size=self.vocab_size)
        self.compiler = xgrammar.GrammarCompiler(self.tok_info, max_threads=1, cache_enabled=False)
        self.bm = xgrammar.allocate_token_bitmask(1, self.tok_info.vocab_size)
        self.row = self.bm.numpy()[0]
        self.compiled: Any = None
        self.m: Any = None

    def info(self) -> Dict[str, Any]:
        return {
            **super().info(),
            "version": package_version("xgrammar"),
            "engine_vocab_size": self.tok_info.vocab_size,
            "stop_token_ids": list(self.tok_info.stop_token_ids),
        }

    def compile(self, schema: Any) -> None:
        text = schema if isinstance(schema, str) else json.dumps(schema)
        self.compiled = self.compiler.compile_json_schema(
            text, any_whitespace=True, strict_mode=False
        )

    def new_matcher(self) -> None:
        self.m = self.xgr.GrammarMatcher(self.compiled)

    def fill(self) -> None:
        self.m.fill_next_token_bitmask(self.bm)

    def accept(self, token: int) -> bool:
        return bool(self.m.accept_token(token))

    def can_end(self) -> Optional[bool]:
        return bool(self.m.is_completed())

    def drop(self) -> None:
        self.compiled = self.m = None


class LlguidanceEngine(EngineBase):
    name = "llguidance"

    def __init__(self, hf_tok: Any, options: Dict[str, Any]) -> None:
        super().__init__(hf_tok, options)
        import llguidance
        import llguidance.hf
        import llguidance.numpy

        self.llg = llguidance
        self.tok = llguidance.hf.from_tokenizer(hf_tok, n_vocab=self.vocab_size)
        self.bm = llguidance.numpy.allocate_token_bitmask(1, self.vocab_size)
        self.row = self.bm[0]
        self.ptr, self.nbytes = self.row.ctypes.data, self.row.size * self.row.itemsize
        self.template: Any = None
        self.m: Any = None

    def info(self) -> Dict[str, Any]:
        return {**super().info(), "version": self.llg.__version__, "overrides": LLG_OVERRIDES}

    def compile(self, schema: Any) -> None:
        grammar = self.llg.LLMatcher.grammar_from_json_schema(
            schema,
            overrides=LLG_OVERRIDES,  # type: ignore[arg-type]
        )
        m = self.llg.LLMatcher(self.tok, grammar, log_level=0)
        if m.is_error():
            raise RuntimeError(m.get_error())
        self.template = m

    def new_matcher(self) -> None:
        self.m = self.template.deep_copy()

    def fill(self) -> None:
        self.m.unsafe_compute_mask_ptr(self.ptr, self.nbytes)

    def accept(self, token: int) -> bool:
        return bool(self.m.consume_token(token)) and not self.m.is_error()

    def can_end(self) -> Optional[bool]:
        return bool(self.m.is_accepting())

    def reason(self) -> str:
        return self.m.get_error() if self.m is not None and self.m.is_error() else ""

    def drop(self) -> None:
        self.template = self.m = None


ENGINE_CLASSES = {"xgram": XgramEngine, "xgrammar": XgrammarEngine, "llguidance": LlguidanceEngine}
