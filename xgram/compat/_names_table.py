"""XGrammar 0.2.9's public surface, described, compared with the drop-in's, and tabulated.

``python -m xgram.compat._names_table`` writes ``xgram/compat/NAMES.md``: every
public name of XGrammar 0.2.9 (each module's names and their classes' public
members) and what the drop-in does with it. It needs the real ``xgrammar``
installed; ``tests/test_compat_surface.py`` uses the same functions to check
that every name exists in the drop-in with the same kind and signature.

Both packages are named ``xgrammar``; the drop-in is loaded next to the real
one under another name (:func:`load_drop_in`), which its relative imports allow.
"""

from __future__ import annotations

import argparse
import ast
import enum
import importlib
import importlib.util
import inspect
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import site_dir

MODULES = (
    "xgrammar",
    "xgrammar.exception",
    "xgrammar.config",
    "xgrammar.tokenizer_info",
    "xgrammar.grammar",
    "xgrammar.compiler",
    "xgrammar.matcher",
    "xgrammar.structural_tag",
    "xgrammar.openai_tool_call_schema",
    "xgrammar.builtin_structural_tag",
    "xgrammar.testing",
    "xgrammar.contrib.hf",
    "xgrammar.kernels",
    "xgrammar.kernels.apply_token_bitmask_inplace_cpu",
    "xgrammar.kernels.apply_token_bitmask_inplace_cuda",
    "xgrammar.kernels.apply_token_bitmask_inplace_torch",
    "xgrammar.kernels.apply_token_bitmask_inplace_torch_compile",
    "xgrammar.kernels.apply_token_bitmask_inplace_triton",
    "xgrammar.kernels.apply_token_bitmask_mlx",
)
"""XGrammar's modules whose names the drop-in provides (those that import on this machine)."""

# In these modules XGrammar's helpers are named with one leading underscore
# and are used as API all the same (its test suite is written with them).
_UNDERSCORE_API_MODULES = {"xgrammar.testing"}
_NOT_API = {"_core"}

Description = Dict[str, Any]


# ---------- Reading one surface (runs inside the process that imports it) ----------


def public_names(module: Any) -> List[str]:
    """The module's ``__all__`` and the names its own source defines at top level."""
    names = list(getattr(module, "__all__", []))
    source = inspect.getsourcefile(module)
    tree = ast.parse(open(source, encoding="utf-8").read()) if source else ast.Module(body=[])
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined = [node.name]
        elif isinstance(node, ast.Assign):
            defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined = [node.target.id]
        else:
            defined = []
        names += [name for name in defined if name not in names and _is_api(module, name)]
    return names


def _is_api(module: Any, name: str) -> bool:
    if name in _NOT_API or name.startswith("__"):
        return False
    return not name.startswith("_") or module.__name__ in _UNDERSCORE_API_MODULES


def _is_pydantic_model(obj: Any) -> bool:
    return isinstance(obj, type) and hasattr(obj, "model_fields") and hasattr(obj, "model_dump")


def class_members(cls: type) -> List[str]:
    """Public methods and properties a class defines itself (not pydantic's or object's)."""
    if _is_pydantic_model(cls) or issubclass(cls, (BaseException, enum.Enum)):
        own = [name for name, value in vars(cls).items() if isinstance(value, staticmethod)]
    else:
        own = list(vars(cls))
    return [name for name in own if not name.startswith("_")]


def _signature(obj: Any) -> Optional[List[Tuple[str, str, str]]]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        (p.name, p.kind.name, "<required>" if p.default is p.empty else repr(p.default))
        for p in signature.parameters.values()
    ]


def _strip_descriptions(schema: Any) -> Any:
    """A JSON schema without ``description``s (the docstrings are the drop-in's own)."""
    if isinstance(schema, dict):
        return {k: _strip_descriptions(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [_strip_descriptions(v) for v in schema]
    return schema


def describe(obj: Any) -> Description:
    """Kind and shape of one public object: what must agree between the two packages."""
    if inspect.ismodule(obj):
        return {"kind": "module"}
    if _is_pydantic_model(obj):
        fields = {
            name: [info.is_required(), repr(info.default), info.alias]
            for name, info in obj.model_fields.items()
        }
        try:
            schema = _strip_descriptions(obj.model_json_schema())
        except Exception as exc:  # a field pydantic cannot write as a schema (a class)
            schema = type(exc).__name__
        return {"kind": "pydantic model", "fields": fields, "json_schema": schema}
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return {"kind": "enum", "members": {m.name: m.value for m in obj}}
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return {"kind": "exception", "runtime_error": issubclass(obj, RuntimeError)}
    if isinstance(obj, type):
        return {"kind": "class", "signature": _signature(obj)}
    if isinstance(obj, property):
        return {"kind": "property"}
    if isinstance(obj, (staticmethod, classmethod)):
        return {"kind": "function", "signature": _signature(obj.__func__)}
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return {"kind": "function", "signature": _signature(obj)}
    if type(obj).__module__ == "typing" or type(obj).__module__ == "typing_extensions":
        return {"kind": "typing", "repr": repr(obj)}
    return {"kind": "value", "type": type(obj).__name__, "repr": repr(obj)}


DROP_IN_ALIAS = "_xgrammar_drop_in"
"""The name the drop-in is loaded under next to the real ``xgrammar`` (see :func:`load_drop_in`)."""


def load_drop_in() -> Any:
    """The drop-in package, imported as :data:`DROP_IN_ALIAS` so the real one can stay loaded.

    The drop-in imports its own modules relatively, so it works under any name.
    """
    if DROP_IN_ALIAS in sys.modules:
        return sys.modules[DROP_IN_ALIAS]
    package_dir = os.path.join(site_dir(), "xgrammar")
    spec = importlib.util.spec_from_file_location(
        DROP_IN_ALIAS,
        os.path.join(package_dir, "__init__.py"),
        submodule_search_locations=[package_dir],
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[DROP_IN_ALIAS] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[DROP_IN_ALIAS]
        raise
    return package


def load_real_xgrammar() -> Any:
    """The real XGrammar package.

    Raises
    ------
    ImportError
        When it is not installed, or ``import xgrammar`` finds the drop-in.

    """
    package = importlib.import_module("xgrammar")
    if os.path.abspath(package.__file__ or "").startswith(site_dir()):
        raise ImportError("import xgrammar found the drop-in: take it off PYTHONPATH")
    return package


def _lookup(qualified: str, package: str) -> Any:
    module_name, _, path = qualified.partition(":")
    obj: Any = importlib.import_module(package + module_name[len("xgrammar") :])
    for i, part in enumerate(path.split(".")):
        # Members are read statically so that properties and static methods
        # are seen as such, not evaluated.
        obj = inspect.getattr_static(obj, part) if i else getattr(obj, part)
    return obj


def read_surface(
    qualified_names: Optional[List[str]] = None, package: str = "xgrammar"
) -> Dict[str, Description]:
    """Describe ``module:name[.member]`` names (default: all of XGrammar's) in ``package``.

    ``package`` is ``"xgrammar"`` for the real package, :data:`DROP_IN_ALIAS`
    for the drop-in (loaded by :func:`load_drop_in`); names are always spelled
    with ``xgrammar``.
    """
    if qualified_names is None:
        qualified_names = []
        for module_name in MODULES:
            try:
                module = importlib.import_module(module_name)
            except ImportError:  # e.g. the MLX kernel without mlx installed
                continue
            for name in public_names(module):
                qualified_names.append(f"{module_name}:{name}")
                obj = getattr(module, name)
                if isinstance(obj, type) and not issubclass(obj, enum.Enum):
                    qualified_names += [f"{module_name}:{name}.{m}" for m in class_members(obj)]
    surface: Dict[str, Description] = {}
    for qualified in qualified_names:
        try:
            obj = _lookup(qualified, package)
        except (AttributeError, ImportError) as exc:
            surface[qualified] = {"kind": "missing", "error": repr(exc)}
            continue
        # Reprs name the package; spell the drop-in's as XGrammar's.
        text = json.dumps(describe(obj)).replace(package + ".", "xgrammar.")
        surface[qualified] = json.loads(text)
        reason = _not_supported_reason(obj) if package != "xgrammar" else None
        if reason is not None:
            surface[qualified]["doc_not_supported"] = reason
    return surface


def _not_supported_reason(obj: Any) -> Optional[str]:
    """Why a drop-in object always raises, from its docstring ("Not supported: why."), or None."""
    doc = inspect.getdoc(getattr(obj, "__func__", obj)) or ""
    if not doc.startswith("Not supported"):
        return None
    return doc.split("\n\n")[0].replace("\n", " ").partition(":")[2].strip().rstrip(".")


def read_both_surfaces() -> Tuple[Dict[str, Description], Dict[str, Description]]:
    """(XGrammar's surface, the drop-in's description of the same names)."""
    load_real_xgrammar()
    real = read_surface()
    load_drop_in()
    return real, read_surface(list(real), DROP_IN_ALIAS)


def differences(
    real: Dict[str, Description], ours: Dict[str, Description]
) -> Dict[str, Tuple[Description, Description]]:
    """Names whose description differs: {name: (XGrammar's, the drop-in's)}."""
    found = {}
    for name, expected in real.items():
        got = {k: v for k, v in ours.get(name, {}).items() if k != "doc_not_supported"}
        if got != expected:
            found[name] = (expected, got)
    return found


# ---------- The table ----------

_ERROR = "NotSupportedByXgramError"

# What the drop-in does with a name, where "supported" says too little. A
# value starting with "raises" means the name always raises when called.
NOTES: Dict[str, str] = {
    "xgrammar:Grammar.from_json_schema": (
        "supported; a schema xgram refuses is compiled with lenient=True, warning once "
        "(XGrammarSchemaRelaxedWarning)"
    ),
    "xgrammar:GrammarCompiler.compile_json_schema": "supported; lenient retry as from_json_schema",
    "xgrammar:Grammar.builtin_json_grammar": "supported (an object or an array, as XGrammar's)",
    "xgrammar:Grammar.from_lark": (
        f"supported (xgram.lark); named_grammars raises {_ERROR} (no @name references)"
    ),
    "xgrammar:GrammarCompiler.compile_lark": "supported; as Grammar.from_lark",
    "xgrammar:Grammar.from_structural_tag": (
        "supported (xgram.structural_tag), lenient retry for JSON schemas; token formats match "
        f"by id (a named token is never text in that grammar); exclude_token and max_tokens "
        f"raise {_ERROR}"
    ),
    "xgrammar:GrammarCompiler.compile_structural_tag": "supported; as Grammar.from_structural_tag",
    "xgrammar:Grammar.serialize_json": "supported (versioned JSON holding the EBNF)",
    "xgrammar:GrammarCompiler": (
        "supported; enable_dynamic_compilation accepted (xgram computes each mask on first "
        "use either way, with the same result)"
    ),
    "xgrammar:GrammarMatcher": (
        "supported; max_rollback_tokens warns as in XGrammar and rollback stays unlimited"
    ),
    "xgrammar:GrammarMatcher.accept_token": (
        "supported; out-of-range ids and tokens after termination return False with a warning"
    ),
    "xgrammar:GrammarMatcher.get_captures": "supported (empty: xgram grammars capture nothing)",
    "xgrammar:BatchGrammarMatcher": "supported (xgram.batch.BatchGrammarMatcher)",
    "xgrammar:TokenizerInfo.from_huggingface": (
        "supported (xgram's with special_tokens_as_text=True; stop = eos_token_id)"
    ),
    "xgrammar:apply_token_bitmask_inplace": (
        "supported; every backend applies xgram's kernel for the device (same logits)"
    ),
    "xgrammar:get_model_structural_tag": "supported (xgram.tool_calling)",
    "xgrammar:get_max_recursion_depth": "supported (stored; xgram bounds compiles with budgets)",
    "xgrammar:get_serialization_version": "supported (the drop-in's version, not XGrammar's v18)",
    "xgrammar.kernels.apply_token_bitmask_mlx:apply_token_bitmask_mlx": (
        f"raises {_ERROR}: xgram has no MLX kernel"
    ),
    "xgrammar.kernels.apply_token_bitmask_inplace_triton:apply_token_bitmask_inplace_kernel": (
        "XGrammar's Triton JIT kernel object; apply_token_bitmask_inplace_triton applies "
        "xgram's kernel instead"
    ),
    "xgrammar.testing:_json_schema_to_ebnf": (
        f"supported for json_format='json'; other formats raise {_ERROR}"
    ),
    "xgrammar.testing:_regex_to_ebnf": (
        f"supported; with_rule_name=False raises {_ERROR} for multi-rule grammars"
    ),
}


def status(qualified: str, ours: Description) -> str:
    """The table's second column for one name."""
    note = NOTES.get(qualified) or NOTES.get(_top_level_alias(qualified), "")
    if ours.get("kind") == "missing":
        return f"not provided: {note}" if note else "**missing from the drop-in**"
    if ours.get("doc_not_supported"):
        return note or f"raises {_ERROR}: {ours['doc_not_supported']}"
    return note or "supported"


def _top_level_alias(qualified: str) -> str:
    """``xgrammar.matcher:GrammarMatcher.x`` -> ``xgrammar:GrammarMatcher.x`` (same object)."""
    return "xgrammar:" + qualified.partition(":")[2]


def markdown_table(real: Dict[str, Description], ours: Dict[str, Description]) -> str:
    """NAMES.md: one section per XGrammar module, one row per public name."""
    lines = [
        "# XGrammar 0.2.9 names in xgram's drop-in",
        "",
        "Generated by `python -m xgram.compat._names_table`; do not edit. Each public name of",
        "XGrammar 0.2.9 (module names and their classes' public members) and what",
        "`import xgrammar` does with it when `python -m xgram.compat` is first on `PYTHONPATH`.",
        f"`{_ERROR}` is `xgram.compat.NotSupportedByXgramError`, a `NotImplementedError`.",
        "",
    ]
    by_module: Dict[str, List[str]] = {}
    for qualified in real:
        by_module.setdefault(qualified.partition(":")[0], []).append(qualified)
    for module_name, names in by_module.items():
        lines += [f"## `{module_name}`", "", "| name | in the drop-in |", "| --- | --- |"]
        for qualified in names:
            row_status = status(qualified, ours.get(qualified, {"kind": "missing"}))
            lines.append(f"| `{qualified.partition(':')[2]}` | {row_status} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    """Write NAMES.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "NAMES.md"))
    args = parser.parse_args(argv)
    real, ours = read_both_surfaces()
    with open(args.output, "w", encoding="utf-8") as out:
        out.write(markdown_table(real, ours))
    print(f"wrote {args.output}: {len(real)} names, {len(differences(real, ours))} differ")


if __name__ == "__main__":
    main()
