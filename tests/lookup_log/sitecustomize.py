"""Test hook: log every host name a process looks up, but the loopback's (never shipped).

With this folder on PYTHONPATH and LAKEHOUSE_LOOKUP_LOG set, every child Python process (dbt,
`lakehouse run`) loads it at start-up; the test process installs `logging_getaddrinfo` itself.
The product must work air-gapped, so a graph run should look up no name at all.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

LOOPBACK = frozenset({"", "localhost", "127.0.0.1", "::1", "0.0.0.0"})
_ORIGINAL = socket.getaddrinfo


def logging_getaddrinfo(log: str) -> Callable[..., Any]:
    """`socket.getaddrinfo` that first appends the looked-up name to `log` (unless loopback)."""

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else "" if host is None else str(host)
        if name not in LOOPBACK:
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"{os.getpid()} {name}\n")
        return _ORIGINAL(host, *args, **kwargs)

    return getaddrinfo


if os.environ.get("LAKEHOUSE_LOOKUP_LOG"):
    socket.getaddrinfo = logging_getaddrinfo(os.environ["LAKEHOUSE_LOOKUP_LOG"])
