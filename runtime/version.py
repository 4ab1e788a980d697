"""This build's version, as installed (pyproject.toml's), for `--version` and for status."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "einvoice-allocator"


def package_version() -> str:
    """The installed distribution's version; run from a source tree without installing, say so."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"
