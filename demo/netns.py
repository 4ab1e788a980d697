"""Hosts of their own on one machine: network namespaces joined by a bridge (root only).

Each host is a namespace with its loopback up and one veth into a switch namespace that holds
a bridge, so every host reaches the others on 10.<n>.0.<i>/24 and nothing else: the machine's
own network (and its loopback) is not theirs. Everything made is removed on the way out.
Optionally a link gets a WAN delay (`tc netem`), for the benchmarks.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

TIMEOUT = 30


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=TIMEOUT)


@dataclass
class Lan:
    """`names` hosts on one bridge; `Lan(...).up()` and `down()` (or use it as a context)."""

    names: Sequence[str]
    tag: str = field(default_factory=lambda: f"e{os.getpid() % 100_000}")
    subnet: int = field(default_factory=lambda: 100 + os.getpid() % 100)
    made: list[str] = field(default_factory=list)

    @property
    def switch(self) -> str:
        return f"{self.tag}-sw"

    def ns(self, name: str) -> str:
        return f"{self.tag}-{name}"

    def address(self, name: str) -> str:
        return f"10.{self.subnet}.0.{list(self.names).index(name) + 1}"

    def prefix(self, name: str) -> list[str]:
        """The argv prefix that runs a command on host `name`."""
        return ["ip", "netns", "exec", self.ns(name)]

    def up(self) -> Lan:
        try:
            self._add_ns(self.switch)
            ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            ip("-n", self.switch, "link", "set", "br0", "up")
            for index, name in enumerate(self.names):
                self._add_host(name, index)
        except BaseException:
            self.down()
            raise
        return self

    def _add_ns(self, ns: str) -> None:
        ip("netns", "add", ns)
        self.made.append(ns)
        ip("-n", ns, "link", "set", "lo", "up")

    def _add_host(self, name: str, index: int) -> None:
        ns, side = self.ns(name), f"v{index}"
        self._add_ns(ns)
        ip("link", "add", side, "netns", ns, "type", "veth", "peer", f"p{index}",
           "netns", self.switch)  # fmt: skip
        ip("-n", self.switch, "link", "set", f"p{index}", "master", "br0")
        ip("-n", self.switch, "link", "set", f"p{index}", "up")
        ip("-n", ns, "addr", "add", f"{self.address(name)}/24", "dev", side)
        ip("-n", ns, "link", "set", side, "up")

    def delay(self, name: str, milliseconds: float) -> None:
        """Delay everything host `name` sends by `milliseconds` (tc netem on its veth)."""
        index = list(self.names).index(name)
        subprocess.run(
            [*self.prefix(name), "tc", "qdisc", "replace", "dev", f"v{index}", "root", "netem",
             "delay", f"{milliseconds}ms"],
            check=True, capture_output=True, timeout=TIMEOUT,
        )  # fmt: skip

    def down(self) -> None:
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)
        self.made.clear()

    def __enter__(self) -> Lan:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()
