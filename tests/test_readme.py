"""The README runs as written: its code blocks are extracted and run.

How each fenced block is treated, by its language:

* ``python``: run alone, in a fresh namespace (so it must import what it uses);
  what it prints is kept for an ``output`` block after it.
* ``console``: each ``$ COMMAND`` line is run with bash in the repository root
  (``xgram`` is ``python -m xgram`` of this interpreter); the lines after it, up
  to the next ``$``, must be exactly what it prints (standard output and error).
* ``bash`` / ``sh``: run with bash in the repository root; must exit 0.
* ``text`` marked ``output``: must be exactly what the python block before it
  printed. Other blocks (tables, sample output of the demo) are prose.

An HTML comment on the line before a block changes that:
``<!-- readme-test: skip (reason) -->`` leaves out a block that cannot run in
the tests (it installs, downloads, or runs for minutes); pytest lists each such
block with its reason among the skipped tests.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"

FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(\w+)\s*(?:\((.*)\))?\s*-->\s*$")
RUN_LANGUAGES = ("python", "console", "bash", "sh")


@dataclass
class Block:
    """One fenced code block of the README."""

    language: str
    text: str
    line: int
    """Line of the opening fence (1-based)."""
    marker: Optional[str] = None
    """``skip`` or ``output`` when a readme-test comment precedes the block."""
    reason: str = ""

    @property
    def name(self) -> str:
        return f"{self.language or 'plain'}-line{self.line}"


def readme_blocks(text: str) -> List[Block]:
    """The fenced blocks of ``text``, with the marker comment before each."""
    blocks: List[Block] = []
    lines = text.splitlines()
    marker: Optional[re.Match] = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            end = i + 1
            while end < len(lines) and lines[end].rstrip() != "```":
                end += 1
            block = Block(fence.group(1), "\n".join(lines[i + 1 : end]) + "\n", i + 1)
            if marker is not None:
                block.marker, block.reason = marker.group(1), marker.group(2) or ""
            blocks.append(block)
            marker = None
            i = end + 1
            continue
        found = MARKER.match(line.strip())
        if found:
            marker = found
        elif line.strip() and "readme-test" in line:
            raise AssertionError(f"README line {i + 1}: malformed readme-test comment: {line}")
        elif line.strip():
            marker = None  # a marker applies only to the block right after it
        i += 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
PYTHON_OUTPUT: Dict[int, str] = {}
"""What each python block printed, by its line, for the ``output`` block after it."""


def run_python(block: Block) -> str:
    """Run a python block alone and return what it printed."""
    namespace = {"__name__": "__readme__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block.text, f"README.md:{block.line}", "exec"), namespace)  # noqa: S102
    return printed.getvalue()


def shell_env() -> Dict[str, str]:
    return dict(os.environ, PYTHONIOENCODING="utf-8", PYTHON=sys.executable)


def run_bash(script: str) -> subprocess.CompletedProcess:
    """Run ``script`` with bash in the repository root, ``xgram`` being this interpreter's."""
    prelude = 'xgram() { "$PYTHON" -m xgram "$@"; }\n'
    return subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=REPO,
        env=shell_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=120,
    )


def console_commands(block: Block) -> List[tuple]:
    """(command, expected output) pairs of a console block."""
    pairs: List[tuple] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            assert pairs, f"README line {block.line}: output before the first '$ ' command"
            pairs[-1][1].append(line)
    return [(command, "".join(out + "\n" for out in outs)) for command, outs in pairs]


def block_id(block: Block) -> str:
    return block.name


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.language in RUN_LANGUAGES], ids=block_id)
def test_readme_block_runs(block: Block) -> None:
    if block.marker == "skip":
        pytest.skip(f"README line {block.line}: {block.reason or 'marked skip'}")
    if block.language == "python":
        PYTHON_OUTPUT[block.line] = run_python(block)
    elif block.language == "console":
        for command, expected in console_commands(block):
            proc = run_bash(command)
            printed = proc.stdout.decode("utf-8")
            assert printed == expected, f"README line {block.line}: $ {command}"
    else:
        proc = run_bash(block.text)
        assert proc.returncode == 0, proc.stdout.decode("utf-8", "replace")


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker == "output"], ids=block_id)
def test_readme_output_matches(block: Block) -> None:
    """A block marked ``output`` is what the python block before it prints today."""
    before = [b for b in BLOCKS if b.line < block.line and b.language in RUN_LANGUAGES]
    assert before and before[-1].language == "python", (
        f"README line {block.line}: an output block must follow a python block"
    )
    source = before[-1]
    printed = PYTHON_OUTPUT.get(source.line)
    if printed is None:  # run alone (pytest -k): run the block here
        printed = run_python(source)
    assert printed == block.text


def test_readme_markers_are_known_and_placed() -> None:
    for block in BLOCKS:
        if block.marker is None:
            continue
        assert block.marker in ("skip", "output"), f"README line {block.line}: {block.marker}"
        if block.marker == "skip":
            assert block.language in RUN_LANGUAGES, f"README line {block.line}: nothing to skip"
            assert block.reason, f"README line {block.line}: say why the block is skipped"
    assert sum(b.marker == "output" for b in BLOCKS) >= 1
    assert sum(b.language == "python" and b.marker is None for b in BLOCKS) >= 4


def test_readme_opens_with_what_xgram_is() -> None:
    """Two sentences saying what xgram is come before the first command."""
    text = README.read_text(encoding="utf-8")
    intro = text.split("```", 1)[0]
    paragraph = intro.split("\n\n")[1]
    sentences = re.findall(r"[.!?](?:\s|$)", paragraph.strip())
    assert paragraph.startswith("xgram ") and len(sentences) == 2, paragraph


def test_readme_block_parser() -> None:
    sample = (
        "text\n\n<!-- readme-test: skip (slow) -->\n```bash\nsleep 99\n```\n"
        "```python\nprint(1)\n```\n<!-- readme-test: output -->\n```text\n1\n```\n"
        "<!-- readme-test: skip (x) -->\nprose between\n```console\n$ true\n```\n"
    )
    blocks = readme_blocks(sample)
    assert [(b.language, b.marker, b.reason) for b in blocks] == [
        ("bash", "skip", "slow"),
        ("python", None, ""),
        ("text", "output", ""),
        ("console", None, ""),
    ]
    assert blocks[1].text == "print(1)\n" and blocks[0].line == 4
    assert console_commands(Block("console", "$ a\nx\ny\n$ b\n", 1)) == [("a", "x\ny\n"), ("b", "")]
    with pytest.raises(AssertionError, match="malformed"):
        readme_blocks("<!-- readme-test skip -->\n")
