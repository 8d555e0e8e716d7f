"""Analysts, stewards and their clearance, from `catalogue/users.yml`, validated.

Read by the audited commands (`lakehouse sql`, `lakehouse search`): an unknown user is refused,
and a user never sees what is classified above their clearance.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transforms.catalogue import CatalogueError
from transforms.contract import Classification, within


class UnknownUser(LookupError):
    """The named user is not in `users.yml`."""


class User(BaseModel):
    """One person (or service) allowed to query the lakehouse."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    clearance: Classification
    role: str = Field(min_length=1)

    def may_see(self, classification: str) -> bool:
        """Whether something classified `classification` is within this user's clearance."""
        return within(classification, self.clearance)


class _UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: list[User] = Field(min_length=1)


def users_path(catalogue_dir: Path) -> Path:
    return catalogue_dir / "users.yml"


def load_users(catalogue_dir: Path) -> dict[str, User]:
    """Every user by name; errors name the file and the key (e.g. `users.1.clearance`)."""
    path = users_path(catalogue_dir)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogueError(f"{path}: users file not found") from exc
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    try:
        parsed = _UsersFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<file>'}: {e['msg']}" for e in exc.errors()
        )
        raise CatalogueError(f"{path}: {problems}") from exc
    names = [u.name for u in parsed.users]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CatalogueError(f"{path}: users: duplicate names {duplicates}")
    return {u.name: u for u in parsed.users}


def get_user(catalogue_dir: Path, name: str) -> User:
    """The named user, or UnknownUser naming the file."""
    users = load_users(catalogue_dir)
    if name not in users:
        raise UnknownUser(f"unknown user {name!r}: not listed in {users_path(catalogue_dir)}")
    return users[name]
