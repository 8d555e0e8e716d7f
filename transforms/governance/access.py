"""Governed reads and steward acts: who may, recorded either way.

Every command that reads personal data (explain, why-not, how, review, network, path) or changes
how people are resolved (decide) goes through `governed`: the user must be in
`catalogue/users.yml`, say why (a purpose, or a decision's reason), name an open task covering
what is read (reads; transforms/governance/tasks.py), and the outcome, allowed, refused or
failed, is one row of `ops.audit_log` like an SQL query's, with the task it served.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from transforms.config import Environment
from transforms.governance.audit import audit
from transforms.governance.tasks import require_open_task
from transforms.users import User, get_user

T = TypeVar("T")


class AccessRefused(ValueError):
    """The request is not allowed as made (no purpose, wrong role)."""


def governed(
    env: Environment,
    *,
    user: str,
    purpose: str,
    action: str,
    detail: str,
    tables: Sequence[str],
    call: Callable[[User], T],
    rows: Callable[[T], int] = lambda _: 1,
    roles: Sequence[str] | None = None,
    task: str | None = None,
    tasked: bool = True,
) -> T:
    """`call(user)` if `user` may (known, a purpose given, one of `roles` when set, and, when
    `tasked`, naming an open task whose datasets cover `tables`), audited.

    A ValueError or LookupError from `call` (an unknown key, an entity above clearance) is a
    refusal, anything else an error; both are audited and re-raised for the caller's one line.
    """
    started = time.perf_counter()

    def record(outcome: str, count: int = 0, reason: str | None = None) -> None:
        audit(
            env,
            user=user,
            purpose=purpose,
            action=action,
            sql=detail,
            tables=tables,
            rows=count,
            seconds=time.perf_counter() - started,
            outcome=outcome,  # type: ignore[arg-type]
            reason=reason,
            task=task,
        )

    try:
        if not purpose.strip():
            raise AccessRefused(f"{action} needs a purpose (--purpose, or --reason for decisions)")
        person = get_user(env.catalogue_dir, user)
        if roles is not None and person.role not in roles:
            raise AccessRefused(f"{action} is for {' or '.join(roles)}s; {user} is {person.role}")
        if tasked:
            require_open_task(env, task, tables)
        result = call(person)
    except (ValueError, LookupError) as exc:
        record("refused", reason=_line(exc))
        raise
    except Exception as exc:
        record("error", reason=_line(exc))
        raise
    record("allowed", rows(result))
    return result


def _line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
