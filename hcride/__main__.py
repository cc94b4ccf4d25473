"""``python -m hcride``: the same as the ``hcride`` command."""

from hcride.cli import main

raise SystemExit(main())
