"""hcride: Nim-style hot code reloading for running Python programs, in an IDE.

This package is put on the user's program path by the controller, so importing it
must stay cheap and standard-library only: the GUI lives in ``hcride.ide`` and the
controller in ``hcride.controller``, each imported only by the processes that use it.
"""

__version__ = "0.1.0"
