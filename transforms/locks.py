"""Locks between processes of one machine, for what only one may do at a time.

DuckDB allows one process per database file, and ingesting a delivery twice at once would
commit it twice. These locks are `flock`s (through `filelock`): the operating system releases
them when the holder exits or is killed, so a crashed run never leaves a stale lock behind.
Beside each lock a small JSON file says who holds it, so a waiter can say what it waits for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from transforms.config import Environment
from transforms.storage import write_text_atomic

WAREHOUSE = "warehouse"  # every connection to the DuckDB warehouse file
RUN = "run"  # one `lakehouse run` at a time
AUDIT = "audit"  # the head of the ops.audit_log hash chain


class LockBusy(RuntimeError):
    """The lock is held and the caller asked not to wait."""

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(f"the lakehouse {name} lock is held by {holder}")
        self.holder = holder


def lock_folder(env: Environment) -> Path:
    """Locks live in the local scratch folder (beside the warehouse), never on an object store."""
    folder = env.scratch / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def describe_holder(env: Environment, name: str) -> str:
    """Who holds lock `name` now, as one phrase (`unknown holder` when nobody says)."""
    info = lock_folder(env) / f"{name}.holder.json"
    try:
        holder = json.loads(info.read_text())
    except (OSError, ValueError):
        return "an unknown holder"
    return f"{holder.get('holder', '?')} (pid {holder.get('pid', '?')}, since {holder.get('since', '?')})"


@contextmanager
def exclusive(
    env: Environment,
    name: str,
    holder: str,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold lock `name` for the block; wait for it (telling `on_wait` whom for) or raise `LockBusy`."""
    folder = lock_folder(env)
    lock = FileLock(str(folder / f"{name}.lock"), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        current = describe_holder(env, name)
        if not wait:
            raise LockBusy(name, current) from None
        if on_wait is not None:
            on_wait(current)
        lock.acquire()
    info = folder / f"{name}.holder.json"
    try:
        since = datetime.now(UTC).isoformat(timespec="seconds")
        write_text_atomic(info, json.dumps({"holder": holder, "pid": os.getpid(), "since": since}))
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


@contextmanager
def warehouse_lock(env: Environment, holder: str = "a warehouse connection") -> Iterator[None]:
    """Hold the DuckDB warehouse for the block (one process at a time may open the file)."""
    with exclusive(env, WAREHOUSE, holder):
        yield


@contextmanager
def audit_lock(env: Environment, holder: str = "an audit") -> Iterator[None]:
    """Hold the head of the `ops.audit_log` hash chain: read it and append the next row, alone.

    Two writers that read the same head would both chain onto it and fork the chain. Like every
    lock here it is a local `flock`: it serialises the processes of one machine.
    """
    with exclusive(env, AUDIT, holder):
        yield
