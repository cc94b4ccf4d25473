"""The cache sample's main script: print a report, reload what changed.

Run it with ``hcride run samples/cache/main.py`` (or plain ``python main.py``), then
edit ``mydb.py`` (the cache is cleared) or ``report.py`` (the cache is kept) and save.
"""

import sys
import time

import report

from hcride import hotcodereloading as hcr

ticks = int(sys.argv[1]) if len(sys.argv) > 1 else 0  # 0: run until interrupted
interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5  # seconds between ticks
n = 0
while ticks == 0 or n < ticks:
    result = hcr.perform_code_reload()
    if result.reloaded or result.rejected or result.error:
        names = result.reloaded or [r.module for r in result.rejected]
        print(f"[reload] {result.status}: {', '.join(names)}", flush=True)
    print(report.line(), flush=True)
    n += 1
    time.sleep(interval)
