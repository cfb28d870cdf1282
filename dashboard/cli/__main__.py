"""``python -m dashboard.cli``: the ``segwatch`` command."""

from dashboard.cli import main

raise SystemExit(main())
