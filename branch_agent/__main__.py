"""`python -m branch_agent serve ...`, the same as `einv-agent`."""

from __future__ import annotations

import sys

from branch_agent.cli import main

sys.exit(main())
