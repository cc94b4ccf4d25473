"""One source file in a Scintilla widget with the Lexilla Python lexer."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from lexilla import Language, create_lexer
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QWidget
from pyside6_scintilla import Scintilla, ScintillaEdit

from hcride.ide.theme import Theme, bgr

# Lexilla's Python lexer style numbers (SCE_P_*), by theme key.
PYTHON_STYLES = {
    "default": (0,),
    "comment": (1, 12),
    "number": (2,),
    "string": (3, 4),
    "keyword": (5,),
    "triple": (6, 7),
    "classname": (8,),
    "defname": (9,),
    "operator": (10,),
    "identifier": (11,),
    "stringeol": (13,),
    "word2": (14,),
    "decorator": (15,),
    "fstring": (16, 17, 18, 19),
    "attribute": (20,),
}
KEYWORDS = (
    "False None True and as assert async await break case class continue def del elif else "
    "except finally for from global if import in is lambda match nonlocal not or pass raise "
    "return try type while with yield"
)
BUILTINS = (
    "self cls print len range list dict set tuple int float str bool bytes object super "
    "isinstance issubclass getattr setattr hasattr enumerate zip map filter sorted min max "
    "sum abs open iter next repr type property staticmethod classmethod dataclass"
)
STYLE_DEFAULT = 32
STYLE_LINENUMBER = 33
STYLE_BRACELIGHT = 34
STYLE_BRACEBAD = 35
STYLE_ANNOTATION_ERROR = 40
INDIC_ERROR = 8
INDIC_FOUND = 9
MARKER_ERROR = 1
SC_MARK_BACKGROUND = 22
SC_MARK_CIRCLE = 0
INDIC_SQUIGGLE = 1
INDIC_ROUNDBOX = 7
SCFIND_WHOLEWORD = 2
SCFIND_MATCHCASE = 4
SCFIND_REGEXP = 0x00200000
SCFIND_CXX11REGEX = 0x00800000
SCI_REDO = 2011
SCMOD_SHIFT = 1
SCMOD_CTRL = 2
ZOOM_RANGE = (-8, 20)
ANNOTATION_BOXED = 2
SC_ELEMENT_CARET_LINE_BACK = 50
SC_ELEMENT_SELECTION_BACK = 11


def search_flags(match_case: bool = False, whole_word: bool = False, regex: bool = False) -> int:
    """Scintilla's search flags; a regex is ECMAScript (C++11 ``std::regex``)."""
    flags = SCFIND_MATCHCASE if match_case else 0
    if whole_word:
        flags |= SCFIND_WHOLEWORD
    if regex:
        flags |= SCFIND_REGEXP | SCFIND_CXX11REGEX
    return flags


def source_encoding(data: bytes) -> str:
    """UTF-8 when ``data`` is UTF-8; else the encoding its ``coding:`` line declares,
    else latin-1 (which maps every byte to a character and back unchanged)."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
        return encoding
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return "latin-1"


class CodeEditor(ScintillaEdit):
    """A Python editor: ``text()``/``set_text()``, problems marked at their lines.

    ``modifiedChanged(bool)`` follows Scintilla's save point."""

    modifiedChanged = Signal(bool)

    def __init__(self, path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.disk_bytes: bytes | None = None
        self.encoding = "utf-8"
        """How the file's bytes are text: UTF-8, or the PEP 263 ``coding:`` it
        declares; saving writes the same encoding (never silently converts)."""
        """The bytes last read from or written to disk (to tell our writes apart)."""
        self._problem_lines: list[int] = []
        self.setCodePage(Scintilla.CpUtf8)
        lexer = create_lexer(Language.PYTHON)
        if lexer is not None:
            lexer.property_set("fold", "0")
            self.setILexer(lexer.detach())
        self.setKeyWords(0, KEYWORDS)
        self.setKeyWords(1, BUILTINS)
        self.setTabWidth(4)
        self.setIndent(4)
        self.setUseTabs(False)
        self.setTabIndents(True)
        self.setBackSpaceUnIndents(True)
        self.setIndentationGuides(3)  # SC_IV_LOOKBOTH
        self.setMarginTypeN(0, 1)  # SC_MARGIN_NUMBER
        self.setMarginTypeN(1, 0)  # symbol margin for error markers
        self.setMarginWidthN(1, 10)
        self.setMarginLeft(4)
        self.setCaretLineVisible(True)
        self.setScrollWidthTracking(True)
        self.setScrollWidth(1)
        self.markerDefine(MARKER_ERROR, SC_MARK_CIRCLE)
        self.indicSetStyle(INDIC_ERROR, INDIC_SQUIGGLE)
        self.indicSetStyle(INDIC_FOUND, INDIC_ROUNDBOX)
        self.annotationSetVisible(ANNOTATION_BOXED)
        self.savePointChanged.connect(self.modifiedChanged.emit)
        self.charAdded.connect(self._on_char_added)
        self.updateUi.connect(self._on_update_ui)
        self.linesAdded.connect(lambda _n: self._fit_line_numbers())
        self.zoom.connect(lambda *_: self._fit_line_numbers())
        self.assignCmdKey(ord("Z") | ((SCMOD_CTRL | SCMOD_SHIFT) << 16), SCI_REDO)
        self._fit_line_numbers()

    # ------------------------------------------------------------- public API

    def text(self) -> str:
        """The whole buffer."""
        return bytes(self.getText(self.textLength() + 1)).decode("utf-8", "replace")

    def set_text(self, text: str) -> None:
        """Replace the buffer as one undoable step (Ctrl+Z brings the old text back)."""
        self.beginUndoAction()
        self.setTargetRange(0, self.textLength())
        self.replaceTarget(len(text.encode("utf-8", "replace")), text)
        self.endUndoAction()

    def load(self, data: bytes) -> None:
        """Show ``data`` as the file's saved content (not undoable, unmodified)."""
        line = self.firstVisibleLine()
        pos = self.currentPos()
        self.encoding = source_encoding(data)
        self.setText(data.decode(self.encoding, "replace"))
        self.emptyUndoBuffer()
        self.setSavePoint()
        self.disk_bytes = data
        self.gotoPos(min(pos, self.textLength()))
        self.setFirstVisibleLine(line)

    @property
    def is_modified(self) -> bool:
        return bool(self.modify())

    def mark_saved(self, data: bytes) -> None:
        self.disk_bytes = data
        self.setSavePoint()

    def go_to_line(self, line: int) -> None:
        """Move the caret to the 1-based ``line`` and show it."""
        target = max(0, min(line - 1, self.lineCount() - 1))
        self.ensureVisibleEnforcePolicy(target)
        self.gotoLine(target)
        self.setFirstVisibleLine(max(0, target - self.linesOnScreen() // 3))

    def current_line(self) -> int:
        return self.lineFromPosition(self.currentPos()) + 1

    def find(
        self,
        needle: str,
        forward: bool = True,
        match_case: bool = False,
        whole_word: bool = False,
        regex: bool = False,
    ) -> bool:
        """Select the next occurrence of ``needle`` after the caret (wrapping)."""
        if not needle:
            return False
        size = len(needle.encode("utf-8"))
        self.setSearchFlags(search_flags(match_case, whole_word, regex))
        length = self.textLength()
        if forward:
            start = max(self.currentPos(), self.anchor())
            ranges = ((start, length), (0, start))
        else:
            start = min(self.currentPos(), self.anchor())
            ranges = ((start, 0), (length, start))
        for a, b in ranges:
            self.setTargetRange(a, b)
            pos = self.searchInTarget(size, needle)
            if pos >= 0:
                self.setSel(self.targetStart(), self.targetEnd())
                self.scrollCaret()
                return True
        return False

    def _matches(self, needle: str, flags: int) -> list[tuple[int, int]]:
        """Every (start, end) byte range of ``needle`` (Scintilla's own search)."""
        out: list[tuple[int, int]] = []
        if not needle:
            return out
        size = len(needle.encode("utf-8"))
        self.setSearchFlags(flags)
        pos, length = 0, self.textLength()
        while pos <= length:
            self.setTargetRange(pos, length)
            if self.searchInTarget(size, needle) < 0:
                break
            start, end = self.targetStart(), self.targetEnd()
            out.append((start, end))
            pos = end if end > start else end + 1
            if len(out) >= 100_000:
                break
        return out

    def highlight_all(self, needle: str, flags: int = 0) -> int:
        """Mark every match with the find indicator; returns how many there are."""
        self.clear_highlights()
        matches = self._matches(needle, flags)
        self.setIndicatorCurrent(INDIC_FOUND)
        for start, end in matches:
            if end > start:
                self.indicatorFillRange(start, end - start)
        return len(matches)

    def clear_highlights(self) -> None:
        self.setIndicatorCurrent(INDIC_FOUND)
        self.indicatorClearRange(0, self.textLength())

    def highlighted(self) -> list[tuple[int, int]]:
        """The (start, end) ranges marked by ``highlight_all`` (tests read this)."""
        out: list[tuple[int, int]] = []
        pos, length = 0, self.textLength()
        while pos < length:
            if self.indicatorValueAt(INDIC_FOUND, pos):
                end = self.indicatorEnd(INDIC_FOUND, pos)
                out.append((pos, end))
                pos = max(end, pos + 1)
            else:
                nxt = self.indicatorEnd(INDIC_FOUND, pos)
                pos = nxt if nxt > pos else length
        return out

    def replace_one(self, needle: str, replacement: str, flags: int, forward: bool = True) -> bool:
        """Replace the selected match (if the selection is one), then select the next."""
        start, end = self.selectionStart(), self.selectionEnd()
        if end > start:
            self.setSearchFlags(flags)
            self.setTargetRange(start, end)
            size = len(needle.encode("utf-8"))
            if self.searchInTarget(size, needle) == start and self.targetEnd() == end:
                self._replace_target(replacement, flags)
                self.gotoPos(self.targetEnd())
        return self.find(
            needle, forward, bool(flags & SCFIND_MATCHCASE), bool(flags & SCFIND_WHOLEWORD),
            bool(flags & SCFIND_REGEXP),
        )  # fmt: skip

    def replace_all(self, needle: str, replacement: str, flags: int) -> int:
        """Replace every match, as one undo step; returns the count."""
        if not needle:
            return 0
        size = len(needle.encode("utf-8"))
        count = 0
        self.setSearchFlags(flags)
        self.beginUndoAction()
        try:
            pos = 0
            while True:
                length = self.textLength()
                if pos > length:
                    break
                self.setTargetRange(pos, length)
                if self.searchInTarget(size, needle) < 0:
                    break
                empty = self.targetEnd() == self.targetStart()
                self._replace_target(replacement, flags)
                count += 1
                pos = self.targetEnd() + (1 if empty else 0)
        finally:
            self.endUndoAction()
        return count

    def _replace_target(self, replacement: str, flags: int) -> None:
        size = len(replacement.encode("utf-8"))
        if flags & SCFIND_REGEXP:
            self.replaceTargetRE(size, replacement)  # \1 ... back references
        else:
            self.replaceTarget(size, replacement)

    def selected_text(self) -> str:
        start, end = self.selectionStart(), self.selectionEnd()
        return bytes(self.textRange(start, end)).decode("utf-8", "replace") if end > start else ""

    def toggle_comment(self) -> None:
        """Ctrl+/: comment the selected lines (``# `` at their common indent), or
        uncomment them when every non-blank one is a comment; one undo step."""
        first = self.lineFromPosition(self.selectionStart())
        last = self.lineFromPosition(self.selectionEnd())
        if last > first and self.selectionEnd() == self.positionFromLine(last):
            last -= 1  # a selection ending at a line's start does not include that line
        lines = [(n, self._line_text(n)) for n in range(first, last + 1)]
        code = [(n, t) for n, t in lines if t.strip()]
        if not code:
            return
        commented = all(t.lstrip().startswith("#") for _, t in code)
        indent = min(len(t) - len(t.lstrip()) for _, t in code)
        self.beginUndoAction()
        try:
            for n, t in code:
                start = self.positionFromLine(n)
                if commented:
                    col = len(t) - len(t.lstrip())
                    width = 2 if t.lstrip().startswith("# ") else 1
                    self.setTargetRange(start + col, start + col + width)
                    self.replaceTarget(0, "")
                else:
                    self.setTargetRange(start + indent, start + indent)
                    self.replaceTarget(2, "# ")
        finally:
            self.endUndoAction()

    def _line_text(self, line: int) -> str:
        start, end = self.positionFromLine(line), self.lineEndPosition(line)
        return bytes(self.textRange(start, end)).decode("utf-8", "replace")

    def set_zoom(self, level: int) -> None:
        """Scintilla's zoom (points added to every style's size)."""
        self.setZoom(max(ZOOM_RANGE[0], min(ZOOM_RANGE[1], level)))

    def zoom_level(self) -> int:
        return int(self.send(2374, 0, 0))  # SCI_GETZOOM

    def set_problems(self, problems: list[tuple[int, str]]) -> None:
        """Mark each (1-based line, message) with a margin dot, a squiggle and an
        annotation under the line; an empty list clears the marks."""
        self.clear_problems()
        by_line: dict[int, list[str]] = {}
        for line, message in problems:
            by_line.setdefault(max(1, min(line, self.lineCount())), []).append(message)
        self.setIndicatorCurrent(INDIC_ERROR)
        for line, messages in by_line.items():
            idx = line - 1
            self.markerAdd(idx, MARKER_ERROR)
            start = self.lineIndentPosition(idx)
            end = self.lineEndPosition(idx)
            if end > start:
                self.indicatorFillRange(start, end - start)
            self.annotationSetText(idx, "\n".join(messages))
            self.annotationSetStyle(idx, STYLE_ANNOTATION_ERROR)
            self._problem_lines.append(line)

    def clear_problems(self) -> None:
        self.markerDeleteAll(MARKER_ERROR)
        self.setIndicatorCurrent(INDIC_ERROR)
        self.indicatorClearRange(0, self.textLength())
        self.annotationClearAll()
        self._problem_lines = []

    @property
    def problem_lines(self) -> list[int]:
        """The 1-based lines marked by ``set_problems``."""
        return list(self._problem_lines)

    def annotation(self, line: int) -> str:
        """The annotation text under the 1-based ``line``."""
        return bytes(self.annotationText(line - 1)).decode("utf-8", "replace")

    def class_line(self, name: str) -> int:
        """The 1-based line of ``class name`` in the buffer, or 0."""
        match = re.search(rf"^[ \t]*class[ \t]+{re.escape(name)}\b", self.text(), re.MULTILINE)
        return self.text().count("\n", 0, match.start()) + 1 if match else 0

    # ------------------------------------------------------------------ theme

    def apply_theme(self, theme: Theme) -> None:
        col = theme.editor_colour
        fg, bg = bgr(col("foreground", "#1e1e24")), bgr(col("background", "#ffffff"))
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.styleSetFont(STYLE_DEFAULT, font.family())
        self.styleSetSize(STYLE_DEFAULT, max(9, font.pointSize() if font.pointSize() > 0 else 10))
        self.styleSetFore(STYLE_DEFAULT, fg)
        self.styleSetBack(STYLE_DEFAULT, bg)
        self.styleClearAll()
        styles: dict = theme.editor.get("styles", {})
        for key, numbers in PYTHON_STYLES.items():
            spec = styles.get(key)
            if spec is None:
                continue
            colour, *flags = [spec] if isinstance(spec, str) else list(spec)
            for n in numbers:
                self.styleSetFore(n, bgr(colour))
                self.styleSetBold(n, "bold" in flags)
                self.styleSetItalic(n, "italic" in flags)
        self.styleSetFore(STYLE_LINENUMBER, bgr(col("margin_foreground", "#8a8a94")))
        self.styleSetBack(STYLE_LINENUMBER, bgr(col("margin_background", "#f0f0f3")))
        self.setMarginBackN(1, bgr(col("margin_background", "#f0f0f3")))
        self.styleSetBack(STYLE_BRACELIGHT, bgr(col("brace", "#b6e3b6")))
        self.styleSetBold(STYLE_BRACELIGHT, True)
        self.styleSetBack(STYLE_BRACEBAD, bgr(col("bad_brace", "#f4b6b6")))
        self.styleSetFore(37, bgr(col("indent_guide", "#dcdce2")))  # STYLE_INDENTGUIDE
        self.styleSetFore(STYLE_ANNOTATION_ERROR, bgr(col("annotation_error_fg", "#a0141e")))
        self.styleSetBack(STYLE_ANNOTATION_ERROR, bgr(col("annotation_error_bg", "#fde7e7")))
        self.styleSetItalic(STYLE_ANNOTATION_ERROR, True)
        self.setCaretFore(bgr(col("caret", "#000000")))
        self.setCaretLineBack(bgr(col("caret_line", "#f2f6fc")))
        self.setSelBack(True, bgr(col("selection", "#c7dbf7")))
        error = bgr(col("error_indicator", "#d01c28"))
        self.indicSetFore(INDIC_ERROR, error)
        self.indicSetFore(INDIC_FOUND, bgr(col("found_indicator", "#f0c000")))
        self.markerSetFore(MARKER_ERROR, error)
        self.markerSetBack(MARKER_ERROR, error)
        self.colourise(0, -1)
        self._fit_line_numbers()

    # -------------------------------------------------------------- behaviour

    def _fit_line_numbers(self) -> None:
        digits = max(3, len(str(self.lineCount())))
        self.setMarginWidthN(0, self.textWidth(STYLE_LINENUMBER, "9" * (digits + 1)))

    def _on_char_added(self, ch: int) -> None:
        if ch not in (10, 13):
            return
        line = self.lineFromPosition(self.currentPos())
        if line == 0:
            return
        prev = bytes(self.getLine(line - 1)).decode("utf-8", "replace")
        indent = self.lineIndentation(line - 1)
        stripped = prev.split("#", 1)[0].rstrip()
        if stripped.endswith(":"):
            indent += 4
        elif stripped.split() and stripped.split()[0] in ("return", "pass", "break", "continue"):
            indent = max(0, indent - 4)
        if indent:
            self.setLineIndentation(line, indent)
            self.gotoPos(self.lineIndentPosition(line))

    def _on_update_ui(self, _updated: int) -> None:
        pos = self.currentPos()
        match = -1
        brace_pos = -1
        for candidate in (pos - 1, pos):
            if (
                0 <= candidate < self.textLength()
                and chr(self.charAt(candidate) & 0xFF) in "()[]{}"
            ):
                brace_pos = candidate
                match = self.braceMatch(candidate, 0)
                break
        if brace_pos < 0:
            self.braceHighlight(-1, -1)
        elif match < 0:
            self.braceBadLight(brace_pos)
        else:
            self.braceHighlight(brace_pos, match)
