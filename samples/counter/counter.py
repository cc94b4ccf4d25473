"""The counter sample's logic: edit me while the program runs."""

from dataclasses import dataclass

from hcride import hotcodereloading as hcr


@dataclass
class Counter:
    value: int = 0
    step: int = 1

    def advance(self) -> int:
        self.value += self.step
        return self.value


counter = Counter()  # preserved across reloads: the count goes on
reloads = 0  # preserved too; the handler below updates it


def describe(value: int) -> str:
    return f"count is {value}"  # change this text and save


def tick() -> None:
    print(describe(counter.advance()), flush=True)


@hcr.after_code_reload
def on_reload() -> None:
    global reloads
    reloads += 1
    print(f"counter.py reloaded ({reloads} so far), value kept at {counter.value}", flush=True)
