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


def main_output(capsys, *args: str):
    """Run the CLI in this process: (exit status, stdout, stderr)."""
    from xgram import cli

    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("command", ["check", "print"])
def test_unknown_root_names_the_option(tmp_path, capsys, command):
    path = grammar_file(tmp_path, 'root ::= "a"\n')
    status, stdout, stderr = main_output(capsys, command, path, "--root", "nosuch")
    assert (status, stdout) == (2, "")
    assert stderr.startswith(f"{path}: error: the grammar has no rule named 'nosuch'")
    assert "--root" in stderr and "root_rule_name" not in stderr


def test_unclosed_group_at_the_end_is_shown_at_its_bracket(tmp_path, capsys):
    # The parser meets the end of the file on the empty line after the last line
    # break; the report points at the '(' that was never closed instead.
    path = grammar_file(tmp_path, 'root ::= "a" x\nx ::= "b" ("c" | "d"\n\n')
    status, _, stderr = main_output(capsys, "print", path)
    assert status == 2
    lines = stderr.splitlines()
    assert lines[0] == (
        f"{path}:2:11: error: expected ')' to close the group '(' opened here, "
        "found the end of the grammar"
    )
    assert lines[1] == '  x ::= "b" ("c" | "d"'
    assert lines[2].index("^") == lines[1].index("(")
    assert len(lines) == 3


def test_error_at_the_end_without_a_bracket_is_shown_on_the_last_line(tmp_path, capsys):
    path = grammar_file(tmp_path, 'root ::= "a" Token(\n\n\n')
    status, _, stderr = main_output(capsys, "print", path)
    assert status == 2
    lines = stderr.splitlines()
    assert lines[0].startswith(f"{path}:1:20: error: expected a token id")
    assert lines[1] == '  root ::= "a" Token('
    assert lines[2].index("^") == len(lines[1])


def test_long_grammar_line_is_quoted_around_the_column(tmp_path, capsys):
    body = " ".join(['"a"'] * 300)
    path = grammar_file(tmp_path, f'root ::= {body} ) "b"\n')
    status, _, stderr = main_output(capsys, "print", path)
    assert status == 2
    header, source, caret = stderr.splitlines()
    column = len(f"root ::= {body} ") + 1
    assert header == f"{path}:1:{column}: error: unmatched ')' (no '(' is open here)"
    assert source.startswith("  ...") and len(source) < 100
    assert source[caret.index("^")] == ")"


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


def test_schema_not_utf8_or_with_bom(tmp_path):
    # Schemas are read like grammars: UTF-8 only, a leading byte order mark dropped.
    proc = run("schema", "-", stdin=b'{"const": "\xe9"}')
    assert proc.returncode == 2
    assert err(proc).startswith("xgram: error: <stdin>: not valid UTF-8 (byte 11)"), err(proc)
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"type": "integer"}')
    proc = run("schema", str(path))
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


# ---------------------------------------------------------------------------
# JSON schemas: xgram schema, xgram check --schema
# ---------------------------------------------------------------------------

PERSON_SCHEMA = REPO / "xgram" / "data" / "person.schema.json"
PERSON = {
    "name": "Ada Lovelace",
    "age": 36,
    "email": "ada@example.org",
    "birth_date": "1815-12-10",
    "role": "engineer",
    "skills": ["maths", "poetry"],
    "address": {"city": "London", "country_code": "GB"},
}
BAD_SCHEMA = '{\n  "type": "object",\n  "properties": {\n    "a": {"type": "strin"}\n  }\n}\n'


def json_file(tmp_path: Path, value, name: str = "doc.json", **dumps) -> str:
    import json

    path = tmp_path / name
    path.write_text(json.dumps(value, **dumps), encoding="utf-8")
    return str(path)


def test_schema_help():
    proc = run("schema", "--help")
    assert proc.returncode == 0, err(proc)
    text = out(proc)
    assert text.startswith("usage: xgram schema")
    for option in (
        "SCHEMA",
        "--strict",
        "--no-strict",
        "--lenient",
        "--indent",
        "--compact",
        "--separators",
        "--max-whitespace",
        "--normalized",
        "--no-stats",
    ):
        assert option in text, option
    assert "schema" in out(run("--help"))


def test_check_help_lists_schema_and_regex():
    text = out(run("check", "--help"))
    assert "--schema SCHEMA [FILE ...]" in text and "--regex PATTERN [FILE ...]" in text
    for option in ("--keep-newline", "--strict", "--lenient", "--indent", "--compact"):
        assert option in text, option


def test_schema_prints_a_grammar_for_the_schema(tmp_path):
    import json

    import xgram

    proc = run("schema", rel(PERSON_SCHEMA))
    assert proc.returncode == 0, err(proc)
    assert err(proc) == ""
    text = out(proc)
    assert text.startswith("root ::= ")
    assert "strict_mode=False" in text and "# after normalisation:" in text
    assert re.search(r"^# automaton: \d+ states", text, re.M)
    # The printed EBNF, comments included, is a grammar for the schema (exact semantics).
    printed = xgram.Grammar.from_ebnf(text)
    direct = xgram.Grammar.from_json_schema(
        json.loads(PERSON_SCHEMA.read_text()), strict_mode=False
    )
    docs = [json.dumps(PERSON), json.dumps(PERSON, indent=2), json.dumps({**PERSON, "age": 17})]
    docs += [json.dumps({**PERSON, "birth_date": "1815-02-30"}), json.dumps({**PERSON, "x": 1})]
    for doc in docs:
        assert printed.check(doc) == direct.check(doc), doc
    assert [printed.accepts(d) for d in docs] == [True, True, False, False, False]
    # --normalized prints what 'xgram print' would print for that grammar.
    proc = run("schema", rel(PERSON_SCHEMA), "--normalized", "--no-stats")
    assert proc.returncode == 0, err(proc)
    assert out(proc) == str(direct).rstrip("\n") + "\n"


def test_schema_layout_and_strict_options(tmp_path):
    import xgram

    schema = json_file(
        tmp_path, {"type": "object", "properties": {"a": {"type": "integer"}}}, "s.json"
    )
    grammars = {}
    # (With --indent, an open object nests values of any shape without bound: --strict.)
    cases = (
        [],
        ["--strict"],
        ["--indent", "2", "--strict"],
        ["--compact"],
        ["--separators", ";", "="],
    )
    for flags in cases:
        proc = run("schema", schema, "--no-stats", *flags)
        assert proc.returncode == 0, err(proc)
        grammars[" ".join(flags[:2])] = xgram.Grammar.from_ebnf(out(proc))
    assert grammars[""].accepts('{ "a" : 1, "b": [] }')
    assert not grammars["--strict"].accepts('{"a": 1, "b": []}')
    assert grammars["--strict"].accepts('{"a": 1}')
    assert grammars["--indent 2"].accepts('{\n  "a": 1\n}')
    assert not grammars["--indent 2"].accepts('{"a": 1}')
    assert grammars["--compact"].accepts('{"a":1}')
    assert not grammars["--compact"].accepts('{"a": 1}')
    assert grammars["--separators ;"].accepts('{"a"=1}')
    proc = run("schema", schema, "--indent", "2", "--max-whitespace", "4")
    assert proc.returncode == 2
    assert "--max-whitespace" in err(proc)
    proc = run("schema", schema, "--compact", "--separators", ",", ":")
    assert proc.returncode == 2
    assert "not allowed with" in err(proc)
    proc = run("schema", schema, "--indent", "-1")
    assert proc.returncode == 2


def test_schema_error_names_keyword_pointer_and_line(tmp_path):
    path = grammar_file(tmp_path, BAD_SCHEMA, "bad.schema.json")
    for command in (["schema", path], ["check", "--schema", path, rel(PERSON_SCHEMA)]):
        proc = run(*command)
        assert proc.returncode == 2, err(proc)
        assert out(proc) == ""
        lines = err(proc).splitlines()
        assert lines[0] == (
            f"{path}:4:11: error: 'type' at /properties/a: "
            "must be a type name or a non-empty list of them, got 'strin'"
        )
        assert lines[1] == '      "a": {"type": "strin"}'
        assert lines[2] == "  " + " " * 10 + "^"
        assert "Traceback" not in err(proc)


def test_schema_error_from_stdin_and_regex_in_pattern():
    proc = run("schema", "-", stdin=b'{"properties": {"a": {"pattern": "(a(?=x))"}}}')
    assert proc.returncode == 2
    lines = err(proc).splitlines()
    assert lines[0].startswith("<stdin>:1:23: error: 'pattern' at /properties/a: ")
    assert "lookahead" in lines[0]
    assert lines[1:] == ["  (a(?=x))", "    ^"]  # the regex's own excerpt, not the schema's


def test_schema_not_json_and_not_satisfiable(tmp_path):
    path = grammar_file(tmp_path, '{"type": "object",\n "required": ["a",]}', "s.json")
    proc = run("schema", path)
    assert proc.returncode == 2
    # json's own position: the "]" on Python 3.11/3.12, the trailing comma from 3.13 on
    assert re.match(rf"{re.escape(str(path))}:2:(19|18): error: not valid JSON: ", err(proc))
    proc = run("schema", "-", stdin=b'{"type": "integer", "minimum": 5, "maximum": 3}')
    assert proc.returncode == 2
    assert err(proc).startswith("<stdin>: error: no JSON value satisfies this schema")
    proc = run("schema", "-", stdin=b"[1]")
    assert proc.returncode == 2
    assert "must be an object or a boolean" in err(proc)
    proc = run("schema", "no/such.schema.json")
    assert (proc.returncode, err(proc)) == (2, "xgram: error: no/such.schema.json: no such file\n")


def test_schema_lenient_warns(tmp_path):
    schema = {
        "type": "object",
        "properties": {
            "mail": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "n": {"format": "wibble"},
        },
    }
    path = json_file(tmp_path, schema, "s.json")
    proc = run("schema", path)
    assert proc.returncode == 2
    assert "'uniqueItems' at /properties/mail" in err(proc)
    assert "--lenient would ignore it" in err(proc)
    proc = run("schema", path, "--lenient")
    assert proc.returncode == 0, err(proc)
    assert "lenient=True" in out(proc)
    warnings = err(proc).splitlines()
    assert warnings[0].startswith(
        f"{path}: warning: constraint not enforced: uniqueItems at /properties/mail"
    )
    assert (
        warnings[1]
        == f"{path}: note: unknown format 'wibble' at /properties/n is ignored, as the specification says"
    )
    # check --schema --lenient: the dropped constraint is not checked, and said so.
    proc = run("check", "--schema", path, "--lenient", stdin=b'{"mail": ["a", "a"]}')
    assert (proc.returncode, out(proc)) == (0, "<stdin>: accepted\n")
    assert "warning: constraint not enforced: uniqueItems" in err(proc)


def test_check_schema_accepts_and_rejects(tmp_path):
    import json

    import xgram

    good = json_file(tmp_path, PERSON, "good.json")
    bad_doc = {**PERSON, "address": {"city": "London", "country_code": "gb"}}
    bad = json_file(tmp_path, bad_doc, "bad.json")
    proc = run("check", "--schema", rel(PERSON_SCHEMA), good, bad, good)
    assert proc.returncode == 1, err(proc)
    lines = out(proc).splitlines()
    assert lines[0] == f"{good}: accepted"
    expected = xgram.Grammar.from_json_schema(
        json.loads(PERSON_SCHEMA.read_text()), strict_mode=False
    ).check(json.dumps(bad_doc))
    assert expected.status == "rejected"
    assert lines[1] == (
        f"{bad}: rejected at byte {expected.offset} "
        f"(line {expected.line}, column {expected.column}): unexpected 'g'"
    )
    assert lines[3].index("^") == lines[2].index('gb"')
    assert lines[4] == f"{good}: accepted"
    proc = run("check", "-s", rel(PERSON_SCHEMA), "-q", bad)
    assert (proc.returncode, out(proc)) == (1, "")


def test_check_schema_layout_options(tmp_path):
    indented = json_file(tmp_path, PERSON, "indented.json", indent=2)
    compact = json_file(tmp_path, PERSON, "compact.json", separators=(",", ":"))
    schema = rel(PERSON_SCHEMA)
    assert run("check", "--schema", schema, indented, compact).returncode == 0
    proc = run("check", "--schema", schema, "--indent", "2", indented, compact)
    assert proc.returncode == 1
    assert out(proc).splitlines()[0] == f"{indented}: accepted"
    assert out(proc).splitlines()[1].startswith(f"{compact}: rejected at byte 1 (line 1, column 2)")
    proc = run("check", "--schema", schema, "--compact", compact, indented)
    assert out(proc).splitlines()[0] == f"{compact}: accepted"
    assert out(proc).splitlines()[1].startswith(f"{indented}: rejected at byte 1 ")


def test_check_schema_strict_option(tmp_path):
    schema = json_file(
        tmp_path, {"type": "object", "properties": {"a": {"type": "integer"}}}, "s.json"
    )
    doc = b'{"a": 1, "b": true}'
    assert run("check", "--schema", schema, stdin=doc).returncode == 0
    assert run("check", "--schema", schema, "--no-strict", stdin=doc).returncode == 0
    proc = run("check", "--schema", schema, "--strict", stdin=doc)
    assert proc.returncode == 1
    assert out(proc).startswith("<stdin>: rejected at byte 7 (line 1, column 8): unexpected ','")


def test_check_schema_any_order(tmp_path, capsys):
    import json

    reordered = json_file(tmp_path, dict(reversed(list(PERSON.items()))), "reordered.json")
    schema = rel(PERSON_SCHEMA)
    status, stdout, _ = main_output(capsys, "check", "--schema", schema, reordered)
    assert status == 1 and stdout.startswith(f"{reordered}: rejected at byte 2 ")
    status, stdout, _ = main_output(capsys, "check", "--schema", schema, "--any-order", reordered)
    assert (status, stdout) == (0, f"{reordered}: accepted\n")
    # The other options still hold with --any-order: a wrong value is still rejected.
    wrong = json_file(tmp_path, {**json.loads(Path(reordered).read_text()), "age": 17}, "w.json")
    status, _, _ = main_output(capsys, "check", "--schema", schema, "--any-order", wrong)
    assert status == 1


def test_schema_command_takes_every_option(capsys):
    status, stdout, _ = main_output(
        capsys,
        "schema",
        rel(PERSON_SCHEMA),
        "--any-order",
        "--strict",
        "--lenient",
        "--general-unicode-escapes",
        "--compact",
    )
    assert status == 0
    options = stdout.splitlines()[-3]
    for shown in (
        "any_order=True",
        "strict_mode=True",
        "lenient=True",
        "general_unicode_escapes=True",
        "separators=(',', ':')",
        "any_whitespace=False",
    ):
        assert shown in options, options
    status, stdout, _ = main_output(capsys, "schema", rel(PERSON_SCHEMA), "--unicode-escapes")
    assert status == 0 and "general_unicode_escapes=True" in stdout.splitlines()[-3]


def test_schema_options_call_the_library_by_keyword():
    """The options map onto Grammar.from_json_schema's keyword arguments, one for one."""
    import inspect

    from xgram import Grammar, cli
    from xgram._cli_schema import _schema_options

    args = cli.build_parser().parse_args(["schema", "s.json", "--any-order", "--indent", "2"])
    options = _schema_options(args)
    parameters = inspect.signature(Grammar.from_json_schema).parameters
    assert set(options) <= set(parameters)
    assert options["any_order"] is True and options["indent"] == 2
    assert options["strict_mode"] is False and _schema_options(args, True)["strict_mode"] is True


def test_check_schema_final_newline(tmp_path):
    schema = json_file(tmp_path, {"type": "array"}, "s.json")
    assert run("check", "--schema", schema, stdin=b"[1, 2]\n").returncode == 0
    assert run("check", "--schema", schema, stdin=b"[1, 2]\r\n").returncode == 0
    proc = run("check", "--schema", schema, stdin=b"[1, 2]\n\n")  # only one is left out
    assert proc.returncode == 1
    assert out(proc).startswith("<stdin>: rejected at byte 6 (line 1, column 7): unexpected '\\n'")
    proc = run("check", "--schema", schema, "--keep-newline", stdin=b"[1, 2]\n")
    assert proc.returncode == 1
    assert out(proc).startswith("<stdin>: rejected at byte 6 (line 1, column 7): unexpected '\\n'")


def test_check_schema_from_stdin(tmp_path):
    good = json_file(tmp_path, PERSON, "good.json")
    proc = run("check", "--schema", "-", good, stdin=PERSON_SCHEMA.read_bytes())
    assert (proc.returncode, out(proc)) == (0, f"{good}: accepted\n")
    proc = run("check", "--schema", "-", stdin=PERSON_SCHEMA.read_bytes())
    assert proc.returncode == 2
    assert "standard input cannot hold both" in err(proc)


def test_check_schema_prefix():
    proc = run("check", "--schema", rel(PERSON_SCHEMA), stdin=b'{"name": "Ada", "age": 3')
    assert (proc.returncode, out(proc)) == (
        1,
        "<stdin>: valid prefix (incomplete at end, line 1:25)\n",
    )
    proc = run("check", "--schema", rel(PERSON_SCHEMA), "-p", stdin=b'{"name": "Ada", "age": 3')
    assert proc.returncode == 0


# ---------------------------------------------------------------------------
# xgram check --regex
# ---------------------------------------------------------------------------


def test_check_regex(tmp_path):
    date = r"\d{4}-\d{2}-\d{2}"
    path = grammar_file(tmp_path, "2024-02-29\n", "date.txt")
    proc = run("check", "--regex", date, path, "-", stdin=b"2024-2-29")
    assert proc.returncode == 1
    assert out(proc).splitlines() == [
        f"{path}: accepted",
        "<stdin>: rejected at byte 6 (line 1, column 7): unexpected '-'",
        "  2024-2-29",
        "        ^",
    ]
    proc = run("check", "-e", date, stdin=b"2024-02-29")
    assert (proc.returncode, out(proc)) == (0, "<stdin>: accepted\n")
    proc = run("check", "-e", date, stdin=b"2024-02")
    assert (proc.returncode, out(proc)) == (
        1,
        "<stdin>: valid prefix (incomplete at end, line 1:8)\n",
    )
    # Whole-text match: nothing may follow, not even a second newline.
    proc = run("check", "--regex", "a+", stdin=b"aaa\n\n")
    assert proc.returncode == 1
    proc = run("check", "--regex=-?[0-9]+", stdin=b"-12")
    assert proc.returncode == 0, err(proc)


def test_check_regex_error():
    proc = run("check", "--regex", "a[b", stdin=b"ab")
    assert proc.returncode == 2
    assert out(proc) == ""
    assert err(proc).splitlines() == [
        "xgram: error: --regex, column 2: missing ']' for this character class",
        "  a[b",
        "   ^",
    ]
    proc = run("check", "--regex", "(a(?=a))*", stdin=b"a")
    assert proc.returncode == 2
    assert "lookahead" in err(proc)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--regex", "a", "--schema", "s.json"], "not allowed with"),
        (["--regex", "a", "--indent", "2"], "--indent applies only with --schema"),
        (["--regex", "a", "--root", "r"], "--root applies only to a GRAMMAR file"),
        ([rel(GRAMMARS / "json.ebnf"), "--strict"], "--strict applies only with --schema"),
        ([rel(GRAMMARS / "json.ebnf"), "--no-strict"], "--no-strict applies only with --schema"),
        ([rel(GRAMMARS / "json.ebnf"), "--keep-newline"], "--keep-newline applies only"),
        ([rel(GRAMMARS / "json.ebnf"), "--any-order"], "--any-order applies only with --schema"),
        (["--regex", "a", "--any-order"], "--any-order applies only with --schema"),
        ([], "GRAMMAR"),
    ],
)
def test_check_option_misuse(args, message):
    proc = run("check", *args, stdin=b"a")
    assert proc.returncode == 2
    assert message in err(proc)
    assert "Traceback" not in err(proc)


def test_locate_in_json():
    from xgram._cli_schema import _locate_in_json

    text = '{"a": 1, "$defs": {"x~y/z": {"items": [true, {"type": "strin"}]}},\n "a": {"b": 2}}'
    at = _locate_in_json(text, "/$defs/x~0y~1z/items/1", "type")
    assert text[at:].startswith('"type": "strin"')
    at = _locate_in_json(text, "/$defs/x~0y~1z/items/1", "")
    assert text[at:].startswith('{"type"')
    at = _locate_in_json(text, "#/$defs/x~0y~1z/items/0", "")
    assert text[at:].startswith("true")
    at = _locate_in_json(text, "/a", "b")  # the last of duplicate keys, as json.loads
    assert text[at:].startswith('"b": 2')
    assert _locate_in_json(text, "", "$defs") == text.index('"$defs"')
    assert _locate_in_json(text, "", "missing") == 0
    for pointer in ("/nope", "/$defs/x~0y~1z/items/2", "/$defs/x~0y~1z/items/a", "/a/b/c"):
        assert _locate_in_json(text, pointer, "type") is None, pointer
    assert _locate_in_json("{broken", "/a", "") is None


# ---------------------------------------------------------------------------
# xgram demo: everything but the model (the model runs in test_hf_hook.py)
# ---------------------------------------------------------------------------


def test_demo_help():
    proc = run("demo", "--help")
    assert proc.returncode == 0, err(proc)
    for option in ("--schema", "--grammar", "--lenient", "--prompt", "--unconstrained"):
        assert option in out(proc)


def _demo_args(*argv: str):
    from xgram import cli

    return cli.build_parser().parse_args(["demo", *argv])


def test_demo_bundled_schema():
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from xgram import demo

    assert demo.DEFAULT_SCHEMA == PERSON_SCHEMA
    schema = json.loads(PERSON_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    target = demo.load_target(_demo_args())
    assert target.schema == schema and target.is_json
    assert target.prompt == demo.DEFAULT_SCHEMA_PROMPT
    for key in schema["properties"]:
        assert f'"{key}"' in target.prompt
    lines, ok = demo.check_output(json.dumps(PERSON, indent=2), target)
    assert ok, lines
    assert lines[0].startswith("accepted by the grammar: yes")
    assert lines[1] == "json.loads: ok"
    assert lines[2].startswith("jsonschema: valid under the schema")


def test_demo_check_output_failures(tmp_path):
    import json

    pytest.importorskip("jsonschema")
    from xgram import demo

    target = demo.load_target(_demo_args())
    lines, ok = demo.check_output(json.dumps({**PERSON, "age": 17}), target)
    assert not ok
    assert lines[0].startswith("accepted by the grammar: NO")
    assert lines[2].startswith("jsonschema: INVALID at /age: 17 is less than the minimum of 18")
    lines, ok = demo.check_output('{"name": "Ada"', target)
    assert not ok and lines[1].startswith("json.loads: FAILED")
    # A lenient schema: the grammar accepts what jsonschema rejects, and that is said.
    unique = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    loose = json_file(tmp_path, unique, "s.json")
    target = demo.load_target(_demo_args("--schema", loose, "--lenient"))
    lines, ok = demo.check_output('["a", "a"]', target)
    assert not ok
    assert lines[0].startswith("accepted by the grammar: yes")
    assert lines[2].startswith("jsonschema: INVALID at /: ")
    assert "disagree" in lines[3]
    assert target.prompt.startswith("Reply with a JSON value valid under this JSON schema")


def test_demo_batch_mix_of_grammars():
    import json

    from xgram import _demo_batch, demo

    first = demo.load_target(_demo_args())
    targets = _demo_batch.batch_targets(first, 6)
    assert [t.name for t in targets][:4] == [
        "JSON schema person.schema.json",
        "product schema",
        "event schema",
        "builtin JSON",
    ]
    assert targets[4] is first and targets[5] is targets[1]
    product = {"sku": "ABC-1234", "name": "Lamp", "price": 12.5, "in_stock": True, "tags": []}
    event = {"title": "Standup", "date": "2026-12-07", "start": "09:30", "attendees": 6}
    assert demo.check_output(json.dumps(product), targets[1])[1]
    assert not demo.check_output(json.dumps({**product, "sku": "AB-1234"}), targets[1])[1]
    assert demo.check_output(json.dumps({**event, "online": False}), targets[2])[1]
    assert not demo.check_output(json.dumps({**event, "start": "24:00"}), targets[2])[1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--batch", "0"], "--batch must be at least 1"),
        (["--batch", "2", "--jump-forward"], "--jump-forward decodes one request"),
        (["--batch", "2", "--unconstrained"], "--unconstrained decodes one request"),
    ],
)
def test_demo_batch_arguments(argv, message, monkeypatch):
    import io

    from xgram import demo

    monkeypatch.setattr(demo, "missing_requirements", lambda: [])
    errors = io.StringIO()
    assert not demo._ready_to_run(_demo_args(*argv), errors)
    assert message in errors.getvalue()


def test_demo_grammar_targets(tmp_path):
    from xgram import demo

    target = demo.load_target(_demo_args("--grammar", "json"))
    assert target.name == "builtin JSON grammar" and target.is_json and target.schema is None
    assert demo.check_output("[1, 2]", target) == (
        ["accepted by the grammar: yes", "json.loads: ok"],
        True,
    )
    target = demo.load_target(_demo_args("--grammar", rel(GRAMMARS / "list.ebnf")))
    assert not target.is_json and target.prompt == demo.DEFAULT_PROMPT
    with pytest.raises(ValueError, match="cannot read"):
        demo.load_target(_demo_args("--grammar", "no/such.ebnf"))
    bad = grammar_file(tmp_path, BAD_SCHEMA, "bad.schema.json")
    with pytest.raises(ValueError, match=r"'type' at /properties/a"):
        demo.load_target(_demo_args("--schema", bad))
    with pytest.raises(ValueError, match="not a JSON file"):
        demo.load_target(_demo_args("--schema", rel(GRAMMARS / "list.ebnf")))
    proc = run("demo", "--schema", "s.json", "--grammar", "json")
    assert proc.returncode == 2 and "not allowed with" in err(proc)


def test_demo_schema_options():
    import json

    from xgram import demo

    reordered = json.dumps(dict(reversed(list(PERSON.items()))))
    target = demo.load_target(_demo_args())
    assert not target.grammar.accepts(reordered)
    assert target.grammar.accepts(json.dumps(PERSON))
    target = demo.load_target(_demo_args("--any-order"))
    assert target.grammar.accepts(reordered)
    target = demo.load_target(_demo_args("--compact"))
    assert target.grammar.accepts(json.dumps(PERSON, separators=(",", ":")))
    assert not target.grammar.accepts(json.dumps(PERSON))


def test_demo_is_strict_by_default(tmp_path):
    from xgram import demo

    assert demo.SCHEMA_STRICT_DEFAULT is True
    schema = json_file(tmp_path, {"type": "object", "properties": {"a": {"type": "integer"}}})
    extra = '{"a": 1, "b": 2}'
    assert not demo.load_target(_demo_args("--schema", schema)).grammar.accepts(extra)
    assert demo.load_target(_demo_args("--schema", schema, "--no-strict")).grammar.accepts(extra)


def test_demo_option_misuse(tmp_path):
    from xgram import demo

    with pytest.raises(ValueError, match="--any-order applies only to a JSON schema"):
        demo.load_target(_demo_args("--grammar", "json", "--any-order"))
    with pytest.raises(ValueError, match="--max-whitespace applies only to the free layout"):
        demo.load_target(_demo_args("--indent", "2", "--max-whitespace", "3"))
    path = grammar_file(tmp_path, 'root ::= "a" ("b"\n\n')
    with pytest.raises(ValueError) as raised:
        demo.load_target(_demo_args("--grammar", path))
    assert str(raised.value).splitlines()[0] == (
        f"{path}:1:14: error: expected ')' to close the group '(' opened here, "
        "found the end of the grammar"
    )
    ok = grammar_file(tmp_path, 'root ::= "a"\n', "ok.ebnf")
    with pytest.raises(ValueError, match="or pass --root"):
        demo.load_target(_demo_args("--grammar", ok, "--root", "nosuch"))


def test_demo_bad_schema_fails_before_loading_the_model(tmp_path):
    from xgram import demo

    if demo.missing_requirements():
        pytest.skip("the demo's requirements are not installed")
    bad = grammar_file(tmp_path, BAD_SCHEMA, "bad.schema.json")
    proc = run("demo", "--schema", bad)
    assert proc.returncode == 2
    assert out(proc) == ""
    assert err(proc).startswith(f"xgram demo: {bad}: 'type' at /properties/a: ")
