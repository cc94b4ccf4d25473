"""The counter sample's main script: a loop that reloads the logic module.

Run it with ``hcride run samples/counter/main.py`` (or plain ``python main.py``),
then edit ``counter.py`` and save: the count goes on, on the new code.
"""

import sys
import time

import counter

from hcride import hotcodereloading as hcr

ticks = int(sys.argv[1]) if len(sys.argv) > 1 else 0  # 0: run until interrupted
n = 0
while ticks == 0 or n < ticks:
    result = hcr.perform_code_reload()
    if result.reloaded or result.rejected or result.error:
        names = result.reloaded or [r.module for r in result.rejected]
        print(f"[reload] {result.status}: {', '.join(names)}", flush=True)
    counter.tick()
    n += 1
    time.sleep(0.5)
