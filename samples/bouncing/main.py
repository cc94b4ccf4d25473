"""The bouncing sample's main script (the seed's ``mymain.nim``).

The main script is never reloaded: the logic lives in ``logic.py``. Run it with
``hcride run samples/bouncing/main.py`` (or open ``samples/bouncing`` in the IDE),
keep it running, edit ``logic.py``, save and press F9 in its window.
"""

import logic


def main() -> None:
    logic.init()
    while logic.run_game:
        logic.update()
    logic.destroy()


main()
