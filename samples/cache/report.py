"""The cache sample's report: another reloadable module, unrelated to the database.

Try it: change the text below and save. The cache keeps its entries (no new queries).
"""

import cache
import mydb

KEYS = ("alpha", "beta", "gamma")


def line() -> str:
    values = ", ".join(cache.lookup(key) for key in KEYS)
    return f"values: {values} | cached: {len(cache.my_cache)}, db queries: {mydb.queries}"
