"""ANSI escape sequences in program output: the SGR subset a console shows (16 and 256
colours, 24-bit colours, bold, reset) turned into coloured spans; every other escape
sequence (cursor moves, erase line...) is dropped from the text."""

from __future__ import annotations

import re
from dataclasses import dataclass

ESC = "\x1b"
CSI = re.compile(r"\x1b\[([0-9;:?]*)([@-~])|\x1b[@-Z\\-_]")
"""A CSI sequence (parameters, final byte) or a two-byte escape."""

BASIC = (
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
)  # fmt: skip
BRIGHT = (
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
)  # fmt: skip


@dataclass(frozen=True)
class Span:
    """A run of text with one style; colours are ``#rrggbb`` or "" (the default)."""

    text: str
    fg: str = ""
    bg: str = ""
    bold: bool = False


def plain(text: str) -> str:
    """The text without escape sequences."""
    return CSI.sub("", text) if ESC in text else text


def colour_256(n: int) -> str:
    """xterm's 256-colour palette."""
    if n < 8:
        return BASIC[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        steps = (0, 95, 135, 175, 215, 255)
        return f"#{steps[n // 36]:02x}{steps[(n // 6) % 6]:02x}{steps[n % 6]:02x}"
    grey = 8 + (n - 232) * 10
    return f"#{grey:02x}{grey:02x}{grey:02x}"


def spans(text: str) -> list[Span]:
    """Split ``text`` into styled runs (the state starts plain on every line)."""
    out: list[Span] = []
    fg, bg, bold = "", "", False
    pos = 0
    for match in CSI.finditer(text):
        if match.start() > pos:
            out.append(Span(text[pos : match.start()], fg, bg, bold))
        pos = match.end()
        if match.group(2) != "m":
            continue  # not SGR: dropped
        fg, bg, bold = _sgr(match.group(1), fg, bg, bold)
    if pos < len(text):
        out.append(Span(text[pos:], fg, bg, bold))
    return out


def _sgr(params: str, fg: str, bg: str, bold: bool) -> tuple[str, str, bool]:
    codes = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            fg, bg, bold = "", "", False
        elif code == 1:
            bold = True
        elif code == 22:
            bold = False
        elif 30 <= code <= 37:
            fg = BASIC[code - 30]
        elif 90 <= code <= 97:
            fg = BRIGHT[code - 90]
        elif 40 <= code <= 47:
            bg = BASIC[code - 40]
        elif 100 <= code <= 107:
            bg = BRIGHT[code - 100]
        elif code == 39:
            fg = ""
        elif code == 49:
            bg = ""
        elif code in (38, 48) and i + 1 < len(codes):
            colour = ""
            if codes[i + 1] == 5 and i + 2 < len(codes):
                colour = colour_256(codes[i + 2] % 256)
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                r, g, b = (max(0, min(255, c)) for c in codes[i + 2 : i + 5])
                colour = f"#{r:02x}{g:02x}{b:02x}"
                i += 4
            if code == 38:
                fg = colour
            else:
                bg = colour
        i += 1
    return fg, bg, bold


def sgr_colour(hex_colour: str) -> str:
    """The escape sequence that colours what follows ``#rrggbb`` (24-bit SGR)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"\x1b[38;2;{r};{g};{b}m"
