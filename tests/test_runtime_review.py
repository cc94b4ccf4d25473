"""Contract rules (semantics.md) the runtime once broke in corner cases of real code."""

from __future__ import annotations


def test_form_feed_and_line_separator_do_not_hide_a_change(start) -> None:
    """Python counts lines at \\n only; a form feed (a page break between sections) or
    U+2028 inside a string must not shift the statements' lines: the edit applies."""
    src = ("def a():\n    return 'a\u2028'\n\x0c\ndef b():\n    return 'b1'\n\n\n"
           "def c():\n    return 'c1'\n")
    prog = start({"logic.py": src}, "import logic")
    (prog.root / "logic.py").write_text(src.replace("b1", "b2"), encoding="utf-8")
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("[logic.b(), logic.c()]") == ["b2", "c1"]
    (prog.root / "logic.py").write_text(src.replace("c1", "c2"), encoding="utf-8")
    assert prog.reload()["ok"]
    assert prog.eval("[logic.b(), logic.c()]") == ["b1", "c2"]
