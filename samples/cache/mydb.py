"""The cache sample's "database": a slow lookup whose answers the cache keeps.

Try it: change what ``query()`` returns (say ``v1`` into ``v2``) and save. This module
is reloaded, so ``cache.py``'s handler sees ``has_module_changed(mydb)`` and clears
the cache: the next lookups ask the new code.
"""

import time

queries: int = 0  # preserved across reloads, like every existing global


def query(key: str) -> str:
    global queries
    queries += 1
    time.sleep(0.01)  # a database is slow; that is why there is a cache
    return f"{key}-v1"
