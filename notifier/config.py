"""The notifier's configuration: a TOML file, checked completely at start-up.

A mistake here (an unknown role, a bad address, a missing password) would otherwise surface as
mail that silently never arrives, so every one of them is a `ConfigError` naming the key.
notifier/example.toml shows every key with its meaning.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from notifier.model import Kind
from runtime.emails import valid_address
from runtime.tls import is_loopback_host

BRANCH_ROLE = "branch"  # a pseudo-role: the addresses stored with the alert's branch
ADMIN_ROLE = "hq-admin"  # receives the digest, and any alert whose route yields no address
SECURITY_MODES = ("plain", "starttls", "tls")
SMTP_KEYS = {
    "host",
    "port",
    "security",
    "user",
    "password_env",
    "from",
    "timeout_seconds",
    "ca_file",
}

DEFAULT_ROUTES: Mapping[Kind, tuple[str, ...]] = {
    Kind.POOL_LOW: (ADMIN_ROLE,),
    Kind.BRANCH_STUCK: (ADMIN_ROLE, BRANCH_ROLE),
    Kind.BRANCH_SILENT: (ADMIN_ROLE, BRANCH_ROLE),
    Kind.CLOCK_SKEW: (ADMIN_ROLE, BRANCH_ROLE),
    Kind.PERIOD_NOT_IMPORTED: (ADMIN_ROLE,),
    Kind.E0402_DUE: (ADMIN_ROLE,),
    Kind.E0402_FAILED: (ADMIN_ROLE,),
    Kind.E0402_HELD_BACK: (ADMIN_ROLE, BRANCH_ROLE),
}


class ConfigError(ValueError):
    """The configuration cannot work; the message names the key and what is wrong."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    ca_file: str | None = None  # extra CA to trust (a private relay's certificate)


@dataclass(frozen=True, slots=True)
class Thresholds:
    pool_days: float = 7.0  # HQ pool lasts fewer days than this at the current burn
    silent_minutes: float = 30.0  # a branch holding numbers has not been heard from
    clock_skew_seconds: float = 60.0  # agent clock vs HQ clock at its last report
    import_days: float = 10.0  # next period's ranges not imported this long before it starts
    e0402_days: float = 5.0  # blank report not confirmed this long before its deadline


@dataclass(frozen=True, slots=True)
class Schedule:
    evaluate_seconds: float = 60.0
    dispatch_seconds: float = 5.0
    reminder_hours: float = 24.0
    digest_hour: int | None = 8  # local hour (Asia/Taipei) of the admins' daily digest
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 900.0
    # A 'sending' claim older than this is taken to be from a replica that died mid-send.
    claim_timeout_seconds: float = 300.0
    batch_size: int = 50


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    smtp: SmtpConfig
    roles: Mapping[str, tuple[str, ...]]
    routes: Mapping[Kind, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ROUTES))
    thresholds: Thresholds = field(default_factory=Thresholds)
    schedule: Schedule = field(default_factory=Schedule)

    def __post_init__(self) -> None:
        check(self)


def load_config(path: str | Path, env: Mapping[str, str]) -> NotifierConfig:
    """Read and check a TOML file; `env` supplies the SMTP password (os.environ in production)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"notifier configuration {path}: {error.strerror or error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"notifier configuration {path} is not valid TOML: {error}") from error
    return parse_config(data, env)


def parse_config(data: Mapping[str, Any], env: Mapping[str, str]) -> NotifierConfig:
    _only(data, "", {"smtp", "roles", "routes", "thresholds", "schedule"})
    return NotifierConfig(
        smtp=_smtp(_table(data, "smtp"), env),
        roles={role: _addresses(f"roles.{role}", v) for role, v in _table(data, "roles").items()},
        routes=_routes(_table(data, "routes", required=False)),
        thresholds=_numbers(Thresholds, _table(data, "thresholds", required=False), "thresholds"),
        schedule=_numbers(Schedule, _table(data, "schedule", required=False), "schedule"),
    )


def check(config: NotifierConfig) -> None:
    """Everything that can be known wrong before the first mail is."""
    smtp = config.smtp
    if smtp.security not in SECURITY_MODES:
        raise ConfigError(f"smtp.security {smtp.security!r} must be one of {SECURITY_MODES}")
    if not 0 < smtp.port < 65536:
        raise ConfigError(f"smtp.port {smtp.port} must be 1..65535")
    if not valid_address(smtp.sender):
        raise ConfigError(f"smtp.from {smtp.sender!r} is not a valid e-mail address")
    if smtp.user and smtp.security == "plain" and not is_loopback_host(smtp.host):
        raise ConfigError(
            f"smtp.security = 'plain' would send the password for {smtp.user!r} in clear text "
            f"to {smtp.host}: use 'starttls' or 'tls'"
        )
    for role, addresses in config.roles.items():
        for address in addresses:
            if not valid_address(address):
                raise ConfigError(f"roles.{role}: {address!r} is not a valid e-mail address")
    if not config.roles.get(ADMIN_ROLE):
        raise ConfigError(f"roles.{ADMIN_ROLE} must list at least one address (digest, fallback)")
    for kind, roles in config.routes.items():
        if not roles:
            raise ConfigError(f"routes.{kind}: an alert needs at least one recipient role")
        for role in roles:
            if role != BRANCH_ROLE and role not in config.roles:
                raise ConfigError(
                    f"routes.{kind}: unknown recipient role {role!r} "
                    f"(known: {', '.join(sorted([*config.roles, BRANCH_ROLE]))})"
                )
    digest = config.schedule.digest_hour
    if digest is not None and not 0 <= digest <= 23:
        raise ConfigError(f"schedule.digest_hour {digest} must be 0..23")


def _smtp(table: Mapping[str, Any], env: Mapping[str, str]) -> SmtpConfig:
    _only(table, "smtp", SMTP_KEYS)
    for key in ("host", "port", "from"):
        if key not in table:
            raise ConfigError(f"smtp.{key} is missing")
    password = None
    if table.get("user"):
        variable = table.get("password_env")
        if not variable:
            raise ConfigError("smtp.user is set but smtp.password_env (the variable) is not")
        if variable not in env:
            raise ConfigError(f"smtp.password_env: environment variable {variable} is not set")
        password = env[variable]
    security = table.get("security", "starttls")
    if not isinstance(table["port"], int) or isinstance(table["port"], bool):
        raise ConfigError(f"smtp.port {table['port']!r} must be an integer")
    return SmtpConfig(
        host=str(table["host"]),
        port=table["port"],
        sender=str(table["from"]),
        security=str(security),
        user=table.get("user") or None,
        password=password,
        timeout_seconds=float(table.get("timeout_seconds", 30.0)),
        ca_file=table.get("ca_file"),
    )


def _routes(table: Mapping[str, Any]) -> dict[Kind, tuple[str, ...]]:
    routes = dict(DEFAULT_ROUTES)
    for name, roles in table.items():
        try:
            kind = Kind(name)
        except ValueError:
            known = ", ".join(k.value for k in Kind)
            raise ConfigError(f"routes.{name}: unknown alert kind (known: {known})") from None
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ConfigError(f"routes.{name} must be a list of role names")
        routes[kind] = tuple(roles)
    return routes


def _addresses(where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of e-mail addresses")
    return tuple(value)


def _numbers(cls: Any, table: Mapping[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    _only(table, where, set(known))
    values = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}.{key} {value!r} must be a number")
        if value < 0:
            raise ConfigError(f"{where}.{key} {value!r} must not be negative")
        values[key] = int(value) if key in ("digest_hour", "batch_size") else float(value)
    return cls(**values)


def _table(data: Mapping[str, Any], name: str, required: bool = True) -> Mapping[str, Any]:
    if name not in data:
        if required:
            raise ConfigError(f"[{name}] section is missing")
        return {}
    if not isinstance(data[name], dict):
        raise ConfigError(f"{name} must be a table ([{name}])")
    return data[name]


def _only(table: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    """A misspelt key would otherwise be ignored and its default used without a word."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        known = ", ".join(sorted(allowed))
        raise ConfigError(f"unknown configuration key {prefix}{unknown[0]} (allowed: {known})")
