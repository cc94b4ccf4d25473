"""The words a ReloadResult is reported in (the ``hcride:`` lines) and its JSON form."""

from __future__ import annotations

import json

from hcride.runtime.report import ModuleReport, Rejection, ReloadResult


def test_one_line_per_rejected_difference() -> None:
    result = ReloadResult(ok=False, rejected=[Rejection(
        "logic", "type_change", "class Ball: ...", file="logic.py", line=9, cls="Ball",
        differences=["field 'speed' added", "base 'Sprite' replaced by 'Entity'"],
    )])
    assert result.summary() == [
        "rejected logic: class Ball: field 'speed' added",
        "rejected logic: class Ball: base 'Sprite' replaced by 'Entity'",
    ]
    assert result.status == "rejected"


def test_applied_line_counts_and_stale_values() -> None:
    result = ReloadResult(reloaded=["logic"], duration_ms=2.84, modules=[ModuleReport(
        "logic", "logic.py", 2, patched=["update", "Ball.move"], initialized=["speed"],
        preserved=["ball", "frames"], stale=["frames"],
    )])
    (line,) = result.summary()
    assert line == ("reloaded logic v2 (2 patched, 1 initialized, 2 preserved) "
                    "[kept old value of frames: annotate it `Final` to re-evaluate it on every "
                    "reload] in 2.8 ms")


def test_applied_line_counts_re_evaluated_constants() -> None:
    """A save that only changed ``urlpatterns: Final = [...]`` (Django) or ``SPEED:
    Final = 5`` said "(0 patched, 0 initialized, 0 preserved)": as if nothing had run."""
    result = ReloadResult(reloaded=["urls"], duration_ms=1.0, modules=[ModuleReport(
        "urls", "urls.py", 3, reevaluated=["urlpatterns"])])
    (line,) = result.summary()
    assert line == "reloaded urls v3 (0 patched, 0 initialized, 0 preserved, 1 re-evaluated) in 1.0 ms"


def test_failed_batch_names_the_error_and_round_trips_through_json() -> None:
    result = ReloadResult(ok=False, reloaded=["a", "b"], error="Traceback ...\nValueError: no")
    assert result.summary() == ["reload of a, b failed and was rolled back: ValueError: no"]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "failed"
    again = ReloadResult.from_dict(data)
    assert again.error == result.error and again.reloaded == ["a", "b"]


def test_a_big_batch_is_one_short_line_with_totals() -> None:
    """A checkout that touched a thousand modules is told in one line of totals that
    names the first few, not a line of a thousand entries."""
    modules = [ModuleReport(f"app.m{i}", f"m{i}.py", 2, patched=["f"], preserved=["a", "b"])
               for i in range(1000)]
    modules[500].stale = ["LIMIT"]
    result = ReloadResult(reloaded=[m.name for m in modules], modules=modules,
                          duration_ms=312.0)
    (line,) = result.summary()
    assert line.startswith("reloaded 1000 modules (1000 patched, 0 initialized, "
                           "2000 preserved) in 312.0 ms: app.m0 v2, app.m1 v2, "), line
    assert line.count(" v2") == 8 and "and 992 more" in line, line
    assert "kept old value of app.m500.LIMIT" in line and len(line) < 400, line
