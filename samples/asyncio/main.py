"""The asyncio sample's main script: an event loop that reloads between awaits.

It starts a worker task, then one more after every applied reload, and calls
``perform_code_reload()`` each tick while the tasks are suspended. Run it with
``hcride run samples/asyncio/main.py`` (or plain ``python main.py``), then edit
``tasks.py`` as its docstring says and save: the old worker finishes on the old
code while the new one runs the new code.

    python main.py [ROUNDS [INTERVAL]]   # rounds per worker (default 30), seconds
"""

import asyncio
import itertools
import sys

import tasks

from hcride import hotcodereloading as hcr

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
INTERVAL = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5


async def main() -> None:
    running: set[asyncio.Task[None]] = set()  # keep a reference to each task
    numbering = itertools.count(1)

    def start_worker() -> None:
        name = f"worker {next(numbering)}"
        task = asyncio.create_task(tasks.worker(name, ROUNDS, INTERVAL), name=name)
        running.add(task)
        task.add_done_callback(running.discard)
        print(f"[main] started {name}", flush=True)

    start_worker()
    while True:
        result = hcr.perform_code_reload()
        if result.reloaded or result.rejected or result.error:
            names = result.reloaded or [r.module for r in result.rejected]
            print(f"[reload] {result.status}: {', '.join(names)}", flush=True)
            if result.ok:
                start_worker()
        await asyncio.sleep(INTERVAL)


asyncio.run(main())
