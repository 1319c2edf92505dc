"""Generate ``xgram/json_schema/idna_tables.py``: the Unicode data of the IDN formats.

The ``idn-hostname`` and ``idn-email`` formats (RFC 5890-5893, IDNA2008) are built at
run time from a handful of code-point sets. This script derives them once, from

* the ``idna`` package (``pip install idna``; a development dependency only): the
  RFC 5892 derived property (PVALID), and the Script and Joining_Type data that the
  CONTEXTJ/CONTEXTO rules read;
* Python's ``unicodedata``: Bidi_Class (RFC 5893), General_Category (no leading
  combining mark), Canonical_Combining_Class (virama, combining marks) and the
  normalization data behind the NFC rule.

A code point is kept only where both sources know it (assigned in this Python's Unicode
version), so every property read for it is defined. Each set is written as a compact
string of hexadecimal ranges (``"df-f6,f8-ff"``). Run from the repository root::

    python scripts/gen_idna_tables.py

and commit the regenerated module with the Unicode versions it names.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import idna
import idna.idnadata

OUT = Path(__file__).resolve().parent.parent / "xgram" / "json_schema" / "idna_tables.py"

#: CONTEXTJ / CONTEXTO code points: the format code writes their rules by hand.
CONTEXT_RULE_CHARS = {0x200C, 0x200D, 0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB}
CONTEXT_RULE_CHARS |= set(range(0x0660, 0x066A)) | set(range(0x06F0, 0x06FA))


def _expand(packed: Iterable[int]) -> Set[int]:
    """The code points of an ``idna`` range table (``lo << 32 | hi + 1`` entries)."""
    out: Set[int] = set()
    for item in packed:
        out.update(range(item >> 32, item & 0xFFFFFFFF))
    return out


def _ranges(points: Iterable[int]) -> List[Tuple[int, int]]:
    """Sorted code points as inclusive ``(lo, hi)`` runs."""
    runs: List[Tuple[int, int]] = []
    for cp in sorted(points):
        if runs and runs[-1][1] == cp - 1:
            runs[-1] = (runs[-1][0], cp)
        else:
            runs.append((cp, cp))
    return runs


def _pack(points: Iterable[int]) -> str:
    return ",".join(f"{lo:x}" if lo == hi else f"{lo:x}-{hi:x}" for lo, hi in _ranges(points))


def _nfc_maybe() -> Set[int]:
    """NFC_Quick_Check=Maybe: the second code point of a primary composite."""
    maybe = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V and T jamo
    for cp in range(0x110000):
        mapping = unicodedata.decomposition(chr(cp))
        if not mapping or mapping.startswith("<"):
            continue
        parts = [int(p, 16) for p in mapping.split()]
        pair = "".join(chr(p) for p in parts)
        if len(parts) == 2 and unicodedata.normalize("NFC", pair) == chr(cp):
            maybe.add(parts[1])
    return maybe


def _composing_starters(candidates: Set[int], maybe: Set[int]) -> Set[int]:
    """Starters ``s`` for which some ``s + m`` (``m`` NFC_QC=Maybe) is not in NFC.

    Only a starter that begins a primary composite or has a canonical decomposition can
    change when a combining character follows it; the others are skipped.
    """
    first_elements: Set[int] = set()
    for cp in range(0x110000):
        mapping = unicodedata.decomposition(chr(cp))
        if mapping and not mapping.startswith("<"):
            first_elements.add(int(mapping.split()[0], 16))
    hangul = set(range(0xAC00, 0xD7A4))
    unsafe = set()
    for s in candidates:
        ch = chr(s)
        if s not in first_elements and s not in hangul and unicodedata.normalize("NFD", ch) == ch:
            continue
        if any(unicodedata.normalize("NFC", ch + chr(m)) != ch + chr(m) for m in maybe):
            unsafe.add(s)
    return unsafe


def build() -> Dict[str, Set[int]]:
    """The sets written to the module, by name."""
    pvalid = _expand(idna.idnadata.codepoint_classes["PVALID"])
    assigned = {cp for cp in pvalid if unicodedata.category(chr(cp)) != "Cn"}
    stable = {cp for cp in assigned if unicodedata.normalize("NFC", chr(cp)) == chr(cp)}
    allowed = {cp for cp in stable if cp >= 0x80} - CONTEXT_RULE_CHARS
    ascii_ldh = {ord(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789-"}
    everything = allowed | CONTEXT_RULE_CHARS | ascii_ldh
    bidi: Dict[str, Set[int]] = {}
    for cp in everything:
        bidi.setdefault(unicodedata.bidirectional(chr(cp)), set()).add(cp)
    neutral = set().union(*(bidi.get(k, set()) for k in ("ES", "CS", "ET", "ON", "BN")))
    known = {"L", "R", "AL", "AN", "EN", "NSM", "ES", "CS", "ET", "ON", "BN"}
    other_bidi = set().union(*(v for k, v in bidi.items() if k not in known))
    maybe = _nfc_maybe()
    scripts = {name: _expand(idna.idnadata.scripts[name]) for name in idna.idnadata.scripts}
    joining = {name: _expand(idna.idnadata.joining_types[name]) for name in "DLRT"}
    return {
        "PVALID": allowed,
        "BIDI_L": bidi.get("L", set()),
        "BIDI_RTL": bidi.get("R", set()) | bidi.get("AL", set()),
        "BIDI_AN": bidi.get("AN", set()),
        "BIDI_EN": bidi.get("EN", set()),
        "BIDI_NSM": bidi.get("NSM", set()),
        "BIDI_NEUTRAL": neutral,
        "BIDI_OTHER": other_bidi,
        "MARK": {cp for cp in everything if unicodedata.category(chr(cp)).startswith("M")},
        "COMBINING": {cp for cp in everything if unicodedata.combining(chr(cp))},
        "VIRAMA": {cp for cp in everything if unicodedata.combining(chr(cp)) == 9},
        "NFC_MAYBE": maybe & everything,
        "COMPOSING_STARTER": _composing_starters(everything, maybe & everything),
        "JOINING_LD": (joining["L"] | joining["D"]) & everything,
        "JOINING_RD": (joining["R"] | joining["D"]) & everything,
        "JOINING_T": joining["T"] & everything,
        "GREEK": scripts["Greek"] & everything,
        "HEBREW": scripts["Hebrew"] & everything,
        "HIRAGANA_KATAKANA_HAN": (scripts["Hiragana"] | scripts["Katakana"] | scripts["Han"])
        & everything,
    }


HEADER = '''"""Unicode data for the ``idn-hostname`` and ``idn-email`` formats (generated).

Written by ``scripts/gen_idna_tables.py``; do not edit. Each set is a string of
hexadecimal code-point ranges, ``"lo-hi"`` or ``"cp"``, comma-separated; read them with
:func:`xgram.json_schema.idn_formats.ranges`. The sets cover the code points a U-label
may hold (``PVALID``: RFC 5892 PVALID, non-ASCII, assigned in the Unicode version below,
NFC-stable, less the CONTEXTJ/CONTEXTO code points whose rules the format code writes)
plus ASCII ``a-z0-9-`` and those contextual code points.
"""

from __future__ import annotations

'''


def main() -> int:
    """Write the module; print the set sizes."""
    sets = build()
    lines = [HEADER]
    lines.append("#: Unicode version of Python's unicodedata (Bidi, categories, NFC).\n")
    lines.append(f'UNICODE_VERSION = "{unicodedata.unidata_version}"\n')
    lines.append("#: Unicode version of the idna package's tables (PVALID, scripts, joining).\n")
    lines.append(f'IDNA_UNICODE_VERSION = "{idna.idnadata.__version__}"\n')
    for name, points in sets.items():
        packed = _pack(points)
        chunks = [packed[i : i + 88] for i in range(0, len(packed), 88)]
        if len(chunks) <= 1:  # the layout `ruff format` gives, so a rerun leaves no diff
            lines.append(f'\n{name} = "{packed}"\n')
        else:
            body = "\n".join(f'    "{chunk}"' for chunk in chunks)
            lines.append(f"\n{name} = (\n{body}\n)\n")
        print(f"{name}: {len(points)} code points, {len(_ranges(points))} ranges", file=sys.stderr)
    OUT.write_text("".join(lines), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
