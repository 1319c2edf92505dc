"""The oracle for XML-styled tool arguments: parse them back into JSON, then ask jsonschema.

XGrammar 0.2.9's ``json_schema`` styles ``qwen_xml``, ``minimax_xml`` and ``glm_xml`` write
the root object of a tool's arguments as one element per property (the styles are
described in ``xgram/json_schema/xml_styles.py``)::

    qwen_xml     <parameter=NAME>VALUE</parameter>
    minimax_xml  <parameter name="NAME">VALUE</parameter>
    glm_xml      <arg_key>NAME</arg_key><arg_value>VALUE</arg_value>

Whitespace may precede, separate and follow the elements. A string value is the raw text
between the tags (no quotes, no escapes, its whitespace its own); any other value is JSON
with whitespace around it. The oracle reads the arguments back into a JSON object text
(strings JSON-encoded, other values spelled as written, so the JSON oracle's reasons about
spellings still apply) and hands it to the JSON classifier with the tool's schema; the
structure itself (only whitespace between the elements, each element well formed) is
checked here, and so is the longest whitespace run (xgram's ``max_whitespace_cnt``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_WS = " \t\n\r"

# One element: (name, value) groups; the value is everything up to the closing tag.
_ELEMENT = {
    "qwen_xml": re.compile(rf"<parameter=({_NAME})>(.*?)</parameter>", re.S),
    "minimax_xml": re.compile(rf'<parameter name="({_NAME})">(.*?)</parameter>', re.S),
    "glm_xml": re.compile(
        rf"<arg_key>({_NAME})</arg_key>[{_WS}]*<arg_value>(.*?)</arg_value>", re.S
    ),
}
STYLES = tuple(_ELEMENT)


def _is_raw_string(schema: Any) -> bool:
    """The property is written raw: its schema admits strings only."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and kind == ["string"]):
        return True
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)


def _admits_string(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return schema is None or schema is True
    kind = schema.get("type")
    return kind is None or kind == "string" or (isinstance(kind, list) and "string" in kind)


def parse_arguments(style: str, schema: Any, args: str) -> Tuple[Optional[str], str, int]:
    """(JSON object text or None, why not, longest whitespace run between elements).

    ``args`` is the text between the tool's ``begin`` and ``end``.
    """
    pattern = _ELEMENT[style]
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    members: List[str] = []
    layout: List[str] = []  # the text outside values: where whitespace runs are bounded
    at = 0
    while True:
        gap_end = at
        while gap_end < len(args) and args[gap_end] in _WS:
            gap_end += 1
        layout.append(args[at:gap_end])
        if gap_end == len(args):
            break
        found = pattern.match(args, gap_end)
        if found is None:
            return None, f"not a {style} parameter at {args[gap_end : gap_end + 30]!r}", 0
        name, value = found.group(1), found.group(2)
        if _is_raw_string(properties.get(name)):
            spelled = json.dumps(value, ensure_ascii=False)
        else:
            spelled = value.strip(_WS)
            try:
                json.loads(spelled)
            except ValueError:
                if not _admits_string(properties.get(name)):
                    return None, f"value of {name!r} is not JSON: {spelled[:30]!r}", 0
                spelled = json.dumps(value, ensure_ascii=False)  # a raw string after all
        members.append(f"{json.dumps(name)}: {spelled}")
        layout.append(args[found.start() : found.start(2)])
        if not _is_raw_string(properties.get(name)):  # JSON's own whitespace around it
            layout += re.findall(rf"^[{_WS}]*|[{_WS}]*$", value)
        at = found.end()
    longest = max(
        (len(run) for part in layout for run in re.findall(rf"[{_WS}]+", part)), default=0
    )
    return "{" + ", ".join(members) + "}", "", longest


def arguments_parse(style: str, schema: Any, args: str) -> bool:
    """``args`` reads back as ``style``'s parameters (of any value)."""
    return style in _ELEMENT and parse_arguments(style, schema, args)[0] is not None


def arguments_verdict(
    style: str, schema: Any, args: str, xgram_ok: bool, max_whitespace: int
) -> Tuple[Optional[Tuple[str, str]], Optional[str], Dict[str, Any]]:
    """A structural verdict (verdict, reason) or None, and the JSON text for the JSON oracle.

    A verdict comes back only when the structure alone decides; otherwise the caller runs
    the JSON classifier on the returned text.
    """
    spelled, why, longest = parse_arguments(style, schema, args)
    info: Dict[str, Any] = {"arguments": args[:2000], "as_json": spelled}
    if spelled is None:
        if xgram_ok:
            return (
                ("xgram_wrong", f"xgram admits {style} arguments that do not parse: {why}"),
                None,
                info,
            )
        return (
            (
                "xgrammar_inexact",
                f"XGrammar admits {style} arguments that do not parse back ({why.split(':')[0]})",
            ),
            None,
            info,
        )
    if not xgram_ok and longest > max_whitespace:
        return (
            (
                "by_design",
                f"whitespace run > {max_whitespace} (xgram's max_whitespace_cnt default)",
            ),
            None,
            info,
        )
    return None, spelled, info
