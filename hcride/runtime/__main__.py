"""``python -m hcride.runtime``: run a program under the HCR runtime."""

from hcride.runtime.launcher import main

raise SystemExit(main())
