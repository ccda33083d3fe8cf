"""Text for people: the one safe-text function, numbers, amounts, plurals, shortening.

`safe` is the only way a string from input (payloads, file names, request lines,
headers) reaches a terminal: characters that are not printable (C0 and C1 controls, ESC,
DEL, bidirectional overrides, line separators) are shown as visible escapes (`\\x1b`,
`\\u202e`), so no input can move the cursor, retitle or clear the terminal, or hide text.
`json_text` is its counterpart for a whole payload shown as JSON (`show --raw`): the same
characters, written as JSON `\\u` escapes, so the text stays valid JSON with the same
values. Rich markup is never interpreted in vevents' consoles (see `streams`), so `[/]` or
`[link=…]` in a payload print as they are. Pure functions: no rich, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

DASH = "—"


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: Any) -> str:
    """`value` with its non-printable characters visibly escaped (`\\x1b`, `\\u202e`)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def safe(value: Any) -> str:
    """`value` as text that cannot drive a terminal: non-printable characters visibly escaped
    (`visible`), and never the start of a GitHub workflow command (`command_free`)."""
    return command_free(visible(value))


COMMAND = "::"  # a line starting with this (after white space) is a GitHub Actions workflow command


def command_free(text: str) -> str:
    """`text`, which may start a line, as text that cannot start a GitHub Actions workflow command:
    a leading `::` (after white space, which the runner skips) gets its first colon written as
    `\\x3a`. Only vevents' own `--format github` annotations start a line with `::`."""
    if COMMAND not in text:
        return text
    start = len(text) - len(text.lstrip())
    if not text.startswith(COMMAND, start):
        return text
    return text[:start] + "\\x3a" + text[start + 1 :]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _undecodable(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def name(path: str) -> str:
    """A file name as every format reports it (text, JSON, JUnit, GitHub annotations): as it is,
    except the bytes that are not UTF-8 (which Python holds as the lone surrogates U+DC80 to
    U+DCFF), written as `\\xNN` text (`\\xff.json` for the name made of byte 0xff and `.json`),
    so that every format can hold it. Each format then escapes what it must (`safe` for text)."""
    return _SURROGATE.sub(_undecodable, path)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(value: Any, indent: bool = False) -> str:
    """`value` as JSON text that cannot drive a terminal yet stays valid, equal JSON: the
    characters `safe` would escape are written as JSON `\\u` escapes (they can only be
    inside strings), so the text can be copied from a terminal and parsed."""
    from vevents_cli import jsonout

    text = jsonout.dumps(value, pretty=indent).decode()
    if text.isprintable() or (indent and text.replace("\n", "").isprintable()):
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else _json_escape(ch) for ch in text)


def received_json_text(raw: bytes) -> str:
    """JSON text as it was received (its bytes: a compact body stays compact), made safe for a
    terminal yet still valid, equal JSON: line ends are `\\n`, tabs stay (JSON whitespace
    outside strings), and every other character `safe` would escape can only be inside a
    string, so it is written as its JSON `\\u` escape."""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in "\n\t" else _json_escape(ch) for ch in text)


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


_SECONDS = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+(Z|[+-]\d\d:?\d\d)?$")
_SHORT = re.compile(r"\d{4}-(\d\d-\d\d)T(\d\d:\d\d:\d\d)")
SHORT_TIME = 14  # MM-DD HH:MM:SS


def fit_time(value: str, width: int) -> str:
    """An ISO 8601 time in `width` characters if it can be: whole, without its fraction of a
    second, or short (`MM-DD HH:MM:SS`, the date and time as written, the zone left out);
    `width` 0: whole."""
    if len(value) <= width or width == 0:
        return value
    seconds = _SECONDS.sub(r"\1\2", value)
    if len(seconds) <= width:
        return seconds
    short = _SHORT.match(value)
    return f"{short.group(1)} {short.group(2)}" if short else value


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def number(value: float | int | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def signed(value: float | int | None) -> str:
    """A change: +1,200, -300, 0 (— when absent)."""
    if value is None:
        return DASH
    return ("+" if value > 0 else "") + number(value)


def sign_style(value: float | int | None) -> str | None:
    """The colour of a change: green up, red down, dim for nothing."""
    if value is None or value == 0:
        return "dim"
    return "green" if value > 0 else "red"


def amount(value: float | int | None) -> str:
    """An API amount (minor units) with its formatted value: 7000 (70.00)."""
    if value is None:
        return DASH
    return f"{number(value)} ({value / 100:,.2f})"


def join(*parts: str | None) -> str:
    """Non-empty parts joined with a dot, each once."""
    return " · ".join(dict.fromkeys(p for p in parts if p))


def unreadable_line(item: Any) -> str:
    """`vevents: SOURCE:LINE[:COL]: reason`, for an `Unreadable`."""
    return f"vevents: {safe(str(item))}"


def no_events_line(paths: tuple[str, ...], filtered: int = 0) -> str:
    """`vevents: no events found in PATHS (use --allow-empty to accept)`."""
    where = ", ".join(safe("<stdin>" if p == "-" else name(p)) for p in paths)
    if filtered:
        return (
            f"vevents: no events matched the filters in {where} ({plural(filtered, 'event')} filtered out; "
            "use --allow-empty to accept)"
        )
    return f"vevents: no events found in {where} (use --allow-empty to accept)"


def did_you_mean(name: str, choices: list[str]) -> str:
    """` (did you mean X?)` for a misspelt name close to one of `choices`, else ``."""
    import difflib

    close = difflib.get_close_matches(name, choices, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""
