"""The settings sample's main script: tick the logic, reload it when it changed.

Run it with ``hcride run samples/settings/main.py`` (or plain ``python main.py``),
then edit ``render()`` in ``app.py`` and save.
"""

import sys
import time

import app

from hcride import hotcodereloading as hcr

ticks = int(sys.argv[1]) if len(sys.argv) > 1 else 0  # 0: run until interrupted
interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5  # seconds between ticks
n = 0
while ticks == 0 or n < ticks:
    result = hcr.perform_code_reload()
    if result.reloaded or result.rejected or result.error:
        names = result.reloaded or [r.module for r in result.rejected]
        print(f"[reload] {result.status}: {', '.join(names)}", flush=True)
    app.tick()
    n += 1
    time.sleep(interval)
