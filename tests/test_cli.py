"""The ``xgram`` command line, run as ``python -m xgram`` in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

REPO = Path(__file__).resolve().parent.parent
GRAMMARS = REPO / "grammars"
EXAMPLES = GRAMMARS / "examples"
GRAMMAR_NAMES = sorted(p.stem for p in GRAMMARS.glob("*.ebnf"))

REJECTED = re.compile(
    r"^(?P<name>.+): rejected at byte (?P<offset>\d+) "
    r"\(line (?P<line>\d+), column (?P<column>\d+)\): unexpected (?P<what>.+)$"
)


def run(*args: str, stdin: Optional[bytes] = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "xgram", *args],
        cwd=REPO,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env,
        timeout=120,
    )


def out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.decode("utf-8")


def err(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.decode("utf-8")


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def grammar_file(tmp_path: Path, text: str, name: str = "grammar.ebnf") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------------------
# Help and usage
# ---------------------------------------------------------------------------


def test_no_arguments_prints_help():
    proc = run()
    assert proc.returncode == 0
    text = out(proc)
    assert text.startswith("usage: xgram")
    assert "check" in text and "print" in text


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_top_level_help(flag):
    proc = run(flag)
    assert proc.returncode == 0
    assert "usage: xgram" in out(proc)
    assert "check" in out(proc) and "print" in out(proc)


@pytest.mark.parametrize("command", ["check", "print"])
def test_subcommand_help(command):
    proc = run(command, "--help")
    assert proc.returncode == 0, err(proc)
    text = out(proc)
    assert text.startswith(f"usage: xgram {command}")
    assert "GRAMMAR" in text and "--root" in text


def test_check_help_lists_options():
    text = out(run("check", "--help"))
    for option in ("--prefix-ok", "--quiet", "FILE"):
        assert option in text


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert re.fullmatch(r"xgram \d+\.\d+\.\d+\S*\n", out(proc))


def test_unknown_command():
    proc = run("frobnicate")
    assert proc.returncode == 2
    assert "invalid choice" in err(proc)


def test_check_without_grammar():
    proc = run("check")
    assert proc.returncode == 2
    assert "GRAMMAR" in err(proc)


def test_unknown_option():
    proc = run("check", "--no-such-option", rel(GRAMMARS / "json.ebnf"))
    assert proc.returncode == 2
    assert "unrecognized arguments" in err(proc)


# ---------------------------------------------------------------------------
# check and print on the example grammars
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", GRAMMAR_NAMES)
def test_check_valid_examples(name):
    files = sorted((EXAMPLES / name).glob("valid_*.txt"))
    assert files
    proc = run("check", rel(GRAMMARS / f"{name}.ebnf"), *map(rel, files))
    assert proc.returncode == 0, out(proc) + err(proc)
    assert out(proc).splitlines() == [f"{rel(f)}: accepted" for f in files]
    assert err(proc) == ""


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("*/invalid_*.txt")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_check_invalid_example(path):
    import xgram

    grammar_path = GRAMMARS / f"{path.parent.name}.ebnf"
    proc = run("check", rel(grammar_path), rel(path))
    assert proc.returncode == 1, out(proc) + err(proc)
    lines = out(proc).splitlines()
    assert len(lines) == 3, lines
    match = REJECTED.match(lines[0])
    assert match, lines[0]
    expected = xgram.Grammar.from_ebnf(grammar_path.read_text(encoding="utf-8")).check(
        path.read_bytes()
    )
    assert match["name"] == rel(path)
    assert int(match["offset"]) == expected.offset
    assert (int(match["line"]), int(match["column"])) == (expected.line, expected.column)
    # The excerpt is the offending line, with a caret under the offending character
    # (the examples are ASCII and free of tabs, so columns are display columns).
    data = path.read_bytes()
    start = data.rfind(b"\n", 0, expected.offset) + 1
    end = data.find(b"\n", expected.offset)
    source_line = data[start : end if end >= 0 else len(data)].decode("ascii")
    if len(source_line) <= 60:
        assert lines[1] == "  " + source_line
        assert lines[2] == "  " + " " * (expected.column - 1) + "^"
    byte = data[expected.offset : expected.offset + 1].decode("ascii")
    assert match["what"] == repr(byte)


@pytest.mark.parametrize("name", GRAMMAR_NAMES)
def test_check_mixed_inputs_exit_1(name):
    valid = sorted((EXAMPLES / name).glob("valid_*.txt"))[0]
    invalid = sorted((EXAMPLES / name).glob("invalid_*.txt"))[0]
    proc = run("check", rel(GRAMMARS / f"{name}.ebnf"), rel(valid), rel(invalid), rel(valid))
    assert proc.returncode == 1
    lines = out(proc).splitlines()
    assert lines[0] == f"{rel(valid)}: accepted"
    assert lines[1].startswith(f"{rel(invalid)}: rejected at byte ")
    assert lines[-1] == f"{rel(valid)}: accepted"


@pytest.mark.parametrize("name", GRAMMAR_NAMES)
def test_print(name, tmp_path):
    import xgram

    path = GRAMMARS / f"{name}.ebnf"
    proc = run("print", rel(path))
    assert proc.returncode == 0, err(proc)
    text = out(proc)
    g = xgram.Grammar.from_ebnf(path.read_text(encoding="utf-8"))
    assert text.startswith(str(g).rstrip("\n") + "\n")
    stats = g.automaton_stats()
    assert f"{stats['rules']} rule" in text
    assert f"{stats['states']} states" in text
    assert f"{stats['byte_edges']} byte edges" in text
    assert f"{stats['call_edges']} call edges" in text
    # The output, stats included (as comments), is itself a grammar for the same language.
    printed = grammar_file(tmp_path, text, "printed.ebnf")
    examples = sorted((EXAMPLES / name).glob("*.txt"))
    again = run("check", printed, *map(rel, examples))
    first = run("check", rel(path), *map(rel, examples))
    assert again.returncode == first.returncode == 1
    assert out(again) == out(first)


def test_print_no_stats():
    path = GRAMMARS / "arithmetic.ebnf"
    proc = run("print", "--no-stats", rel(path))
    assert proc.returncode == 0
    assert "states" not in out(proc)
    assert "root ::=" in out(proc)


def test_print_with_root(tmp_path):
    path = grammar_file(tmp_path, 'start ::= "a" other\nother ::= "b"+\n')
    proc = run("print", path, "--root", "start")
    assert proc.returncode == 0, err(proc)
    assert "(root: start)" in out(proc)
    assert out(proc).startswith("start ::=")


# ---------------------------------------------------------------------------
# Grammar errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "print"])
def test_grammar_error_undefined_rule(tmp_path, command):
    path = grammar_file(tmp_path, '# comment\nroot ::= "a" missing\n', "bad.ebnf")
    proc = run(
        command, path, *([rel(EXAMPLES / "json" / "valid_array.txt")] * (command == "check"))
    )
    assert proc.returncode == 2
    assert out(proc) == ""
    lines = err(proc).splitlines()
    assert lines[0] == f"{path}:2:14: error: rule 'missing' is not defined"
    assert lines[1] == '  root ::= "a" missing'
    assert lines[2] == "               ^"
    assert lines[2].index("^") == lines[1].index("missing")


def test_grammar_error_syntax(tmp_path):
    path = grammar_file(tmp_path, 'root ::= "a" | [b-\n', "syntax.ebnf")
    proc = run("check", path, stdin=b"a")
    assert proc.returncode == 2
    lines = err(proc).splitlines()
    assert re.match(re.escape(path) + r":1:\d+: error: \S", lines[0]), lines
    assert lines[1] == '  root ::= "a" | [b-'
    assert lines[2].strip() == "^"


def test_grammar_error_without_location(tmp_path):
    path = grammar_file(tmp_path, 'start ::= "a"\n', "noroot.ebnf")
    proc = run("check", path, stdin=b"a")
    assert proc.returncode == 2
    assert err(proc).startswith(f"{path}: error: ")
    assert "root" in err(proc)
    # With the right root it loads.
    proc = run("check", path, "--root", "start", stdin=b"a")
    assert proc.returncode == 0
    assert out(proc) == "<stdin>: accepted\n"


def test_grammar_not_utf8(tmp_path):
    path = tmp_path / "latin1.ebnf"
    path.write_bytes(b'root ::= "\xe9"\n')
    proc = run("check", str(path), stdin=b"")
    assert proc.returncode == 2
    assert "UTF-8" in err(proc)


def test_grammar_with_bom(tmp_path):
    path = tmp_path / "bom.ebnf"
    path.write_bytes(b'\xef\xbb\xbfroot ::= "a"\n')
    proc = run("check", str(path), stdin=b"a")
    assert proc.returncode == 0, err(proc)


# ---------------------------------------------------------------------------
# Files and standard input
# ---------------------------------------------------------------------------


def test_missing_grammar_file():
    proc = run("check", "no/such/grammar.ebnf", stdin=b"")
    assert proc.returncode == 2
    assert err(proc) == "xgram: error: no/such/grammar.ebnf: no such file\n"
    assert "Traceback" not in err(proc)
    proc = run("print", "no/such/grammar.ebnf")
    assert proc.returncode == 2
    assert "no such file" in err(proc)


def test_missing_input_file_others_still_checked():
    valid = rel(EXAMPLES / "json" / "valid_array.txt")
    proc = run("check", rel(GRAMMARS / "json.ebnf"), "missing.json", valid)
    assert proc.returncode == 2
    assert err(proc) == "xgram: error: missing.json: no such file\n"
    assert out(proc) == f"{valid}: accepted\n"


def test_directory_as_input(tmp_path):
    proc = run("check", rel(GRAMMARS / "json.ebnf"), str(tmp_path))
    assert proc.returncode == 2
    assert "directory" in err(proc)


def test_directory_as_grammar(tmp_path):
    proc = run("print", str(tmp_path))
    assert proc.returncode == 2
    assert "directory" in err(proc)
    assert "Traceback" not in err(proc)


@pytest.mark.parametrize("args", [[], ["-"]], ids=["no-args", "dash"])
def test_stdin(args):
    grammar = rel(GRAMMARS / "arithmetic.ebnf")
    proc = run("check", grammar, *args, stdin=b"1 + 2 * (3 - 4)\n")
    assert proc.returncode == 0, err(proc)
    assert out(proc) == "<stdin>: accepted\n"
    proc = run("check", grammar, *args, stdin=b"1 + \n2 +* 3\n")
    assert proc.returncode == 1
    assert out(proc).splitlines() == [
        "<stdin>: rejected at byte 8 (line 2, column 4): unexpected '*'",
        "  2 +* 3",
        "     ^",
    ]


def test_stdin_mixed_with_files():
    valid = rel(EXAMPLES / "json" / "valid_scalar.txt")
    proc = run("check", rel(GRAMMARS / "json.ebnf"), valid, "-", stdin=b"[1, 2")
    assert proc.returncode == 1
    assert out(proc).splitlines() == [
        f"{valid}: accepted",
        "<stdin>: valid prefix (incomplete at end, line 1:6)",
    ]


def test_empty_stdin():
    proc = run("check", rel(GRAMMARS / "json.ebnf"), stdin=b"")
    assert proc.returncode == 1
    assert out(proc) == "<stdin>: valid prefix (incomplete at end, line 1:1)\n"
    proc = run("check", rel(GRAMMARS / "minilang.ebnf"), stdin=b"")
    assert proc.returncode == 0
    assert out(proc) == "<stdin>: accepted\n"


# ---------------------------------------------------------------------------
# Prefixes, quiet mode, options
# ---------------------------------------------------------------------------


def test_prefix_ok():
    grammar = rel(GRAMMARS / "json.ebnf")
    stdin = b'{\n  "a": [1,\n  2'
    expected = "<stdin>: valid prefix (incomplete at end, line 3:4)\n"
    proc = run("check", grammar, stdin=stdin)
    assert (proc.returncode, out(proc)) == (1, expected)
    for flag in ("--prefix-ok", "-p"):
        proc = run("check", flag, grammar, stdin=stdin)
        assert (proc.returncode, out(proc)) == (0, expected)
    # --prefix-ok does not excuse a rejection.
    proc = run("check", "--prefix-ok", grammar, stdin=b"[1,]")
    assert proc.returncode == 1


@pytest.mark.parametrize("flag", ["--quiet", "-q"])
def test_quiet(flag):
    grammar = rel(GRAMMARS / "json.ebnf")
    assert run("check", flag, grammar, stdin=b"[1]").returncode == 0
    proc = run("check", flag, grammar, stdin=b"[1,]")
    assert (proc.returncode, out(proc), err(proc)) == (1, "", "")
    proc = run("check", flag, grammar, "missing.json")
    assert proc.returncode == 2
    assert "missing.json" in err(proc)


def test_options_after_inputs():
    examples = sorted((EXAMPLES / "chess").glob("valid_*.txt"))
    proc = run("check", rel(GRAMMARS / "chess.ebnf"), rel(examples[0]), "-q", rel(examples[1]))
    assert (proc.returncode, out(proc)) == (0, "")


def test_root_option(tmp_path):
    path = grammar_file(tmp_path, 'root ::= "x" word\nword ::= [a-z]+\n')
    proc = run("check", path, "-r", "word", stdin=b"hello")
    assert (proc.returncode, out(proc)) == (0, "<stdin>: accepted\n")
    proc = run("check", path, stdin=b"hello")
    assert proc.returncode == 1


# ---------------------------------------------------------------------------
# Binary and non-ASCII input
# ---------------------------------------------------------------------------


def test_binary_input(tmp_path):
    data = tmp_path / "blob.bin"
    data.write_bytes(b'["ok", "\xff\xfe\x00"]')
    proc = run("check", rel(GRAMMARS / "json.ebnf"), str(data))
    assert proc.returncode == 1
    lines = out(proc).splitlines()
    assert lines[0] == f"{data}: rejected at byte 8 (line 1, column 9): unexpected b'\\xff'"
    assert lines[1] == '  ["ok", "\\xff\\xfe\\x00"]'
    assert lines[2] == "  " + " " * 8 + "^"


def test_binary_input_all_bytes():
    proc = run("check", rel(GRAMMARS / "list.ebnf"), stdin=bytes(range(256)))
    assert proc.returncode == 1
    assert out(proc).startswith(
        "<stdin>: rejected at byte 0 (line 1, column 1): unexpected '\\x00'"
    )
    assert "Traceback" not in err(proc)


def test_non_ascii_input(tmp_path):
    path = grammar_file(tmp_path, 'root ::= "é"+ "!"\n')
    proc = run("check", path, stdin="ééé!".encode())
    assert (proc.returncode, out(proc)) == (0, "<stdin>: accepted\n")
    # 'è' shares its first byte with 'é': the second byte is the one rejected.
    proc = run("check", path, stdin="ééè!".encode())
    assert proc.returncode == 1
    lines = out(proc).splitlines()
    assert lines[0] == (
        "<stdin>: rejected at byte 5 (line 1, column 3): unexpected b'\\xa8' (byte 2 of 'è')"
    )
    assert lines[1] == "  ééè!"
    assert lines[2] == "    ^"
    proc = run("check", path, stdin="éé€".encode())
    assert out(proc).splitlines()[0].endswith("unexpected '€'")


def test_long_line_is_cut_around_the_error():
    doc = "[" + ", ".join(str(i) for i in range(300)) + ", 01]"
    proc = run("check", rel(GRAMMARS / "json.ebnf"), stdin=doc.encode())
    assert proc.returncode == 1
    header, source, caret = out(proc).splitlines()
    assert header.startswith("<stdin>: rejected at byte ")
    assert source.startswith("  ...") and len(source) < 100
    assert source[caret.index("^")] == "1"
    assert source[caret.index("^") - 1] == "0"


def _example_files(name: str) -> List[str]:
    return [rel(p) for p in sorted((EXAMPLES / name).glob("*.txt"))]


def test_in_process_main(capsys):
    """cli.main can be called directly and returns the exit status."""
    from xgram import cli

    assert {"check", "print"} <= set(cli.COMMANDS)
    status = cli.main(["check", str(GRAMMARS / "list.ebnf"), *_example_files("list")])
    assert status == 1
    captured = capsys.readouterr().out
    assert captured.count(": accepted") == len(list((EXAMPLES / "list").glob("valid_*")))
    assert captured.count(": rejected") == len(list((EXAMPLES / "list").glob("invalid_*")))
    with pytest.raises(ValueError):
        cli.register(cli.COMMANDS["check"])
