"""E-mail alerts a person must act on: rules over HQ state, an outbox in the HQ database,
de-duplicated mails (open, reminders, resolved) and a daily digest, sent with aiosmtplib.

Entry points: `NotifierService` (started by the HQ server), `raise_alert` / `resolve_alert`
(called by MOF sync inside its own transaction), `notifier.alerts` (what the admin API serves
for einv-admin alerts and the back office).
"""

from __future__ import annotations

from notifier.conditions import raise_alert, raise_held_back, resolve_alert, resolve_held_back
from notifier.config import ConfigError, NotifierConfig, load_config, parse_config
from notifier.model import Kind, ReportState, ReportStatus
from notifier.ports import HqState, ReportTracker
from notifier.service import NotifierService

__all__ = [
    "ConfigError",
    "HqState",
    "Kind",
    "NotifierConfig",
    "NotifierService",
    "ReportState",
    "ReportStatus",
    "ReportTracker",
    "load_config",
    "parse_config",
    "raise_alert",
    "raise_held_back",
    "resolve_alert",
    "resolve_held_back",
]
