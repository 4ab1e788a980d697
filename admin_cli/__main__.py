"""`python -m admin_cli` is `einv-admin`."""

import sys

from admin_cli.main import main

sys.exit(main())
