"""Grammar and regex text generated from fuzzer bytes (structure-aware inputs).

Mutating grammar text byte by byte mostly produces syntax errors, which the
parser rejects at its first character. These generators spend the fuzzer's
bytes on *choices* instead (which construct, which bound, which operand), so
nearly every input is a well-formed grammar that reaches normalisation, the
automaton builder and the matcher. The branch coverage of these generators is
instrumented too, which gives libFuzzer a rough measure of structural
novelty even though the C++ core reports no coverage of its own.
"""

from __future__ import annotations

from typing import Any, List, Tuple

# Probe text is drawn from these characters: ASCII letters and digits the
# generated grammars mention, JSON punctuation, a newline, and multi-byte UTF-8.
EBNF_ALPHABET = 'ab1{}"\\ -\né€'
# The regex differential uses ASCII only, and no \r, \x1c-\x1f or non-ASCII
# letters: on those Python's re and ECMA-262 disagree (\s, \w, \d, '.').
REGEX_ALPHABET = "ab1 _-\n"

MAX_DEPTH = 4


def _ebnf_string_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class EbnfGenerator:
    """Builds a grammar in xgram's EBNF from a ``FuzzedDataProvider``'s choices.

    Parameters
    ----------
    fdp : atheris.FuzzedDataProvider
        The source of every choice; when it runs dry the choices default to the
        first option, so every input yields a grammar.

    """

    CLASSES = ("[a-b]", "[^a]", "[^]", '[^"\\\\]', "[0-9]", "[\\n\\-]", "[é-ê]", "[a-a€]")

    def __init__(self, fdp: Any) -> None:
        self.fdp = fdp
        self.literals: List[str] = []
        self.rule_names: List[str] = []

    def pick(self, count: int) -> int:
        """A choice in ``range(count)`` (0 once the fuzzer's bytes run out)."""
        return self.fdp.ConsumeIntInRange(0, count - 1)

    def grammar(self) -> str:
        """The grammar text, ``root`` first, then helper rules ``r1``.. (possibly recursive)."""
        rule_count = 1 + self.pick(4)
        self.rule_names = ["root"] + [f"r{i}" for i in range(1, rule_count)]
        lines = []
        for name in self.rule_names:
            body = self._expression(0)
            if self.pick(6) == 0:  # a lookahead must end the rule and be regular
                body = f"{body} (= {self._regular(1)})"
            lines.append(f"{name} ::= {body}")
        return "\n".join(lines) + "\n"

    def _literal(self) -> str:
        length = self.pick(4)
        text = "".join(EBNF_ALPHABET[self.pick(len(EBNF_ALPHABET))] for _ in range(length))
        self.literals.append(text)
        return _ebnf_string_literal(text)

    def _quantifier(self) -> str:
        choice = self.pick(8)
        low, high = self.pick(4), self.pick(4)
        if choice == 6 and self.pick(4) == 0:
            low, high = 0, 150 + self.pick(200)  # large bounds are counted, not unrolled
        return ["*", "+", "?", f"{{{low}}}", f"{{{low},}}", "", f"{{{min(low, high)},{high}}}"][
            min(choice, 6)
        ]

    def _regular(self, depth: int) -> str:
        """A regular expression (no rule references): the operands of ``-`` and lookaheads."""
        choice = self.pick(4) if depth < MAX_DEPTH else self.pick(2)
        if choice == 0:
            return self._literal()
        if choice == 1:
            return self.CLASSES[self.pick(len(self.CLASSES))]
        if choice == 2:
            return f"({self._regular(depth + 1)} | {self._regular(depth + 1)})"
        return f"({self._regular(depth + 1)}){self._quantifier()}"

    def _expression(self, depth: int) -> str:
        choice = self.pick(8) if depth < MAX_DEPTH else self.pick(3)
        if choice == 0:
            return self._literal()
        if choice == 1:
            return self.CLASSES[self.pick(len(self.CLASSES))]
        if choice == 2:
            return self.rule_names[self.pick(len(self.rule_names))]
        if choice == 3:
            parts = [self._expression(depth + 1) for _ in range(1 + self.pick(3))]
            return "(" + " ".join(parts) + ")"
        if choice == 4:
            parts = [self._expression(depth + 1) for _ in range(1 + self.pick(3))]
            empty = ["" if self.pick(4) == 0 else None]
            return "(" + " | ".join(p for p in parts + empty if p is not None) + ")"
        if choice == 5:
            return f"({self._expression(depth + 1)}){self._quantifier()}"
        if choice == 6:
            return f"({self._regular(depth + 1)} - {self._regular(depth + 1)})"
        return f"({self._expression(depth + 1)} {self._expression(depth + 1)})"

    def probes(self, count: int) -> List[str]:
        """Strings to match: concatenations of the grammar's literals and alphabet characters."""
        probes = [""]
        for _ in range(count):
            pieces = []
            for _ in range(self.pick(6)):
                if self.literals and self.pick(2) == 0:
                    pieces.append(self.literals[self.pick(len(self.literals))])
                else:
                    pieces.append(EBNF_ALPHABET[self.pick(len(EBNF_ALPHABET))])
            probes.append("".join(pieces))
        return probes


class RegexGenerator:
    """Builds a regex in the subset where Python's ``re`` and ECMA-262 agree on ASCII text.

    Every construct here means the same in both dialects for strings over
    :data:`REGEX_ALPHABET`, so ``re.fullmatch`` is an oracle for
    ``Grammar.from_regex(pattern).accepts``.
    """

    ATOMS = ("a", "b", "1", " ", "_", "\\-", ".", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S")
    CLASSES = ("[ab]", "[^a]", "[a-b0-9]", "[\\d_]", "[^\\s]", "[-a]", "[\\n ]", "[^-b1]")

    def __init__(self, fdp: Any) -> None:
        self.fdp = fdp

    def pick(self, count: int) -> int:
        """A choice in ``range(count)`` (0 once the fuzzer's bytes run out)."""
        return self.fdp.ConsumeIntInRange(0, count - 1)

    def pattern(self) -> str:
        """A whole pattern, possibly anchored with ``^`` and ``$`` at its ends."""
        body = self._expression(0)
        start = "^" if self.pick(4) == 0 else ""
        end = "$" if self.pick(4) == 0 else ""
        return start + body + end

    def _quantifier(self) -> str:
        low, high = self.pick(3), self.pick(4)
        base = ["*", "+", "?", f"{{{low}}}", f"{{{low},}}", f"{{{min(low, high)},{high}}}"][
            self.pick(6)
        ]
        return base + ("?" if self.pick(4) == 0 else "")  # lazy: same language

    def _expression(self, depth: int) -> str:
        choice = self.pick(6) if depth < MAX_DEPTH else self.pick(2)
        if choice == 0:
            return self.ATOMS[self.pick(len(self.ATOMS))]
        if choice == 1:
            return self.CLASSES[self.pick(len(self.CLASSES))]
        if choice == 2:
            return "".join(self._expression(depth + 1) for _ in range(1 + self.pick(3)))
        if choice == 3:
            group = "(?:" if self.pick(2) == 0 else "("
            return group + self._expression(depth + 1) + ")" + self._quantifier()
        if choice == 4:
            parts = [self._expression(depth + 1) for _ in range(1 + self.pick(3))]
            return "(?:" + "|".join(parts) + ")"
        return "(?:" + self._expression(depth + 1) + ")" + self._quantifier()

    def probes(self, count: int) -> List[str]:
        """Strings over :data:`REGEX_ALPHABET`, up to 8 characters."""
        return [
            "".join(REGEX_ALPHABET[self.pick(len(REGEX_ALPHABET))] for _ in range(self.pick(9)))
            for _ in range(count)
        ]


def split_mode(data: bytes, modes: int) -> Tuple[int, bytes]:
    """(mode, rest): the first byte picks one of ``modes`` ways to read the rest."""
    if not data:
        return 0, b""
    return data[0] % modes, data[1:]
