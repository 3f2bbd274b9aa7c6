"""`python -m gdw ...`: see :mod:`gdw.cli`."""

from gdw.cli import main

raise SystemExit(main())
