"""The polling sample's logic: edit me while it runs, and save.

``main.py`` notices the change by itself (``has_any_module_changed()`` compares the
source's content hash) and reloads: no IDE, no watcher, no ``hcride run`` needed.
"""

jobs_done: int = 0  # preserved across reloads


def work() -> str:
    global jobs_done
    jobs_done += 1
    return f"job {jobs_done}: polishing"  # change "polishing" into "shining" and save
