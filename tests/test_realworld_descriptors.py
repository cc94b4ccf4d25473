"""Descriptors that are not callable (``functools.cached_property``) are what real
classes use for lazy attributes. A body edit patches the function the descriptor
holds; a new one, or one whose decorator changed, is made again and gets
``__set_name__`` as a ``class`` statement would have called it."""

from __future__ import annotations

REPORT = """
import functools


class Report:
    def __init__(self, rows):
        self.rows = rows

    @functools.cached_property
    def total(self):
        return sum(self.rows)

    @property
    def size(self):
        return len(self.rows)
"""


def test_cached_property_body_edited_and_added(start) -> None:
    prog = start({"report.py": REPORT}, "import report")
    prog.exec("old = report.Report([1, 2]); _result = old.total")
    assert prog.eval("old.total") == 3
    prog.exec("descriptor = report.Report.__dict__['total']")
    # 1. A body edit: new instances compute with the new body, the cached value stays,
    #    and the decorator did not run again (the same descriptor took the new code).
    prog.write("report.py", REPORT.replace("return sum(self.rows)", "return 10 * sum(self.rows)"))
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("report.Report.__dict__['total'] is descriptor") is True
    assert prog.eval("report.Report([1, 2]).total") == 30
    assert prog.eval("old.total") == 3
    # 2. A new cached_property: usable at once (its attribute name was set).
    text = REPORT.replace("return sum(self.rows)", "return 10 * sum(self.rows)") + """
    @functools.cached_property
    def mean(self):
        return self.total / self.size
"""
    prog.write("report.py", text)
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("report.Report([1, 2]).mean") == 15.0
    assert prog.eval("old.mean") == 1.5
    # 3. A property that becomes a cached_property (its decorator changed).
    text = text.replace("    @property\n    def size", "    @functools.cached_property\n    def size")
    prog.write("report.py", text)
    result = prog.reload()
    assert result["ok"], result
    assert prog.eval("report.Report([1, 2, 3]).size") == 3
    assert prog.eval("report.Report([4]).mean") == 40.0
