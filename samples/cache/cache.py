"""The cache sample's cache (the seed's ``mydb`` / ``myCache`` example).

Handlers run on every reload, also when their own module did not change; so this one
guards itself with ``has_module_changed(mydb)``: the cache is cleared only when the
database module was reloaded. Edit ``report.py`` instead, and the cache is kept.
"""

import mydb

from hcride import hotcodereloading as hcr

my_cache: dict[str, str] = {}


def lookup(key: str) -> str:
    if key not in my_cache:
        my_cache[key] = mydb.query(key)
    return my_cache[key]


def reset_cache(cache: dict[str, str]) -> None:
    cache.clear()


@hcr.after_code_reload
def on_reload() -> None:
    if hcr.has_module_changed(mydb):
        reset_cache(my_cache)
        print("mydb changed: cache cleared", flush=True)
    else:
        print(f"mydb unchanged: cache kept ({len(my_cache)} entries)", flush=True)
