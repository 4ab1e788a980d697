"""The in-process HQ with metrics of tests/hq_server/test_metrics.py, for the deploy checks."""

from tests.hq_server.test_metrics import metered

__all__ = ["metered"]
