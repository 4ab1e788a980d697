"""`python -m hq_server` is `einv-hq`."""

from __future__ import annotations

import sys

from hq_server.cli import main

sys.exit(main())
