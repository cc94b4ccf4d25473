"""The asyncio sample's logic: coroutines and generators across a reload.

The seed's rule for closure iterators and async code: "the reloaded definitions will
affect only newly created instances. Existing iterator instances will execute their
original code to completion." In Python: a coroutine (or task) or a generator that is
already running finishes on the code it started with; new ones run the new code.

Try it: change ``v1`` into ``v2`` in ``worker()`` (both lines) and ``n += 1`` into
``n += 10`` in ``numbers()``, and save. The workers already running go on printing
``v1`` and counting by one until they are done; the next worker prints ``v2`` and
counts by ten.

(A running frame keeps its own code, not its own globals: a global it reads, or a
function it calls, is the module's current one.)
"""

import asyncio
from collections.abc import Iterator


def numbers(start: int) -> Iterator[int]:
    """A generator: an instance made before a reload keeps this code."""
    n = start
    while True:
        yield n
        n += 1


async def worker(name: str, rounds: int, interval: float) -> None:
    """A coroutine: a task started before a reload runs this code to the end."""
    counter = numbers(1)
    for _ in range(rounds):
        print(f"{name} v1: {next(counter)}", flush=True)
        await asyncio.sleep(interval)
    print(f"{name} v1: done", flush=True)
