"""The polling sample's main script: reloads itself, with no controller at all.

The seed: "a polling solution is also possible through the provided
hasAnyModuleChanged() API". This loop asks ``has_any_module_changed()`` every tick
and calls ``perform_code_reload()`` only when it is true. It works under plain
``python main.py`` (hcride only has to be importable) as well as under
``hcride run samples/polling/main.py``. Edit ``worker.py`` and save.
"""

import sys
import time

import worker

from hcride import hotcodereloading as hcr

ticks = int(sys.argv[1]) if len(sys.argv) > 1 else 0  # 0: run until interrupted
interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5  # seconds between ticks
n = 0
while ticks == 0 or n < ticks:
    if hcr.has_any_module_changed():
        result = hcr.perform_code_reload()
        if result.ok:
            print(f"[poll] change found, reloaded: {', '.join(result.reloaded)}", flush=True)
        else:
            print(f"[poll] change found, not applied ({result.status}):", flush=True)
            for line in result.summary():
                print(f"    {line}", flush=True)
    print(worker.work(), flush=True)
    n += 1
    time.sleep(interval)
