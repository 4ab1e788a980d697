"""E-mail addresses: the one rule for the branches' contacts and the notifier's recipients."""

from __future__ import annotations

import re

ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


def valid_address(text: str) -> bool:
    """A bare address (no display name), as the SMTP envelope needs it: at most 254 characters."""
    return isinstance(text, str) and len(text) <= 254 and ADDRESS.fullmatch(text) is not None
