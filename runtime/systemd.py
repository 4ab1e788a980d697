"""systemd's service notification protocol (sd_notify(3)) for units of `Type=notify`.

A server says READY=1 once it serves, keeps a STATUS= line current, pings WATCHDOG=1 at half
`WatchdogSec` and says STOPPING=1 on its way out. Each message is one datagram to the AF_UNIX
socket named by $NOTIFY_SOCKET (a leading '@' names the abstract namespace). Outside systemd
($NOTIFY_SOCKET unset) every call does nothing.

Written here (the protocol is one datagram) rather than taken from `sdnotify`, which has not
changed since 2017 and knows nothing of the watchdog, or `cysystemd`, which builds against
libsystemd.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger("einv.systemd")
STATUS_EVERY = 5.0  # seconds between STATUS= refreshes when no watchdog is asked for


@dataclass
class Notifier:
    """Where notifications go (None: nowhere) and how often the watchdog wants a ping."""

    socket_path: str | None
    watchdog_seconds: float | None = None
    _failed: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET") or None, watchdog_seconds(env))

    def send(self, *fields: str) -> bool:
        """One datagram of `KEY=value` lines; False when not under systemd or it failed."""
        if not self.socket_path:
            return False
        path = self.socket_path
        address = "\0" + path[1:] if path.startswith("@") else path
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(1.0)  # systemd reads at once; never hang the event loop on it
                sock.sendto("\n".join(fields).encode(), address)
        except OSError as error:
            if not self._failed:  # once: a missing socket would otherwise log every ping
                log.warning("cannot notify systemd at %s: %s", path, error)
            self._failed = True
            return False
        return True

    async def keep_alive(self, status: Callable[[], str], healthy: Callable[[], bool]) -> None:
        """Ping the watchdog and refresh STATUS= until cancelled.

        The ping comes from a task of the event loop, so a blocked loop sends none; and none is
        sent while `healthy()` is false (a background task of the server died), so systemd
        restarts the service instead of leaving it half alive.
        """
        pause = self.watchdog_seconds / 2 if self.watchdog_seconds else STATUS_EVERY
        shown = ""
        while True:
            await asyncio.sleep(pause)
            fields = []
            if (now := status()) != shown:
                fields.append(f"STATUS={now}")
                shown = now
            if self.watchdog_seconds and healthy():
                fields.append("WATCHDOG=1")
            if fields:
                self.send(*fields)


def watchdog_seconds(environ: Mapping[str, str]) -> float | None:
    """WatchdogSec as systemd passes it (WATCHDOG_USEC), if meant for this process."""
    usec, pid = environ.get("WATCHDOG_USEC"), environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1_000_000 or None
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a number of microseconds: no watchdog", usec)
        return None


@contextlib.asynccontextmanager
async def serving(
    status: Callable[[], str],
    healthy: Callable[[], bool] = lambda: True,
    notifier: Notifier | None = None,
) -> AsyncIterator[Notifier]:
    """READY=1 on entry (call it once the listeners are bound), the watchdog while inside,
    STOPPING=1 on the way out."""
    notifier = notifier or Notifier.from_environ()
    if not notifier.socket_path:
        yield notifier
        return
    notifier.send("READY=1", f"STATUS={status()}")
    pinger = asyncio.create_task(notifier.keep_alive(status, healthy))
    try:
        yield notifier
    finally:
        notifier.send("STOPPING=1", "STATUS=stopping")
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
