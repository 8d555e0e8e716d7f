"""Files under `LAKEHOUSE_HOME`, on a local disk or on an object store (`s3://bucket/prefix`).

A local home gives `pathlib.Path`s, and every helper here does what the code did before; an
object-store home gives `upath.UPath`s over fsspec (s3fs), which mirror most of pathlib. What
differs is handled here, once: an object store has no folders (a prefix exists while it holds an
object) and no rename, but a single PUT is atomic, so a file uploaded in one go is never seen
half-written, which is what a local temporary name and rename give.

Libraries that only take local paths (polars and pyarrow writers, Splink's dashboards) write
through `staged`; delta-rs takes `str(path)` either way and reads the standard AWS variables.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

import polars as pl
from upath import UPath

StoragePath: TypeAlias = Path | UPath
"""A path under the lakehouse home: `Path` when local, `UPath` on an object store."""


def is_uri(location: str | os.PathLike[str]) -> bool:
    """Whether a setting names an object-store location (`scheme://...`) rather than a folder."""
    return "://" in str(location)


def is_local(path: StoragePath) -> bool:
    """Whether `path` is on the local disk (a plain `pathlib.Path`)."""
    return isinstance(path, Path)


def storage_path(location: str | os.PathLike[str]) -> StoragePath:
    """The path a setting or a stored `str(path)` names: `UPath` for a URI, else `Path`."""
    if isinstance(location, UPath):
        return location
    if not is_uri(location):
        return Path(location)
    text = str(location)
    return UPath(text, **(s3_options() if text.startswith(("s3://", "s3a://")) else {}))


def s3_options(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """s3fs settings from the standard AWS variables, the ones delta-rs reads itself.

    Listings are not cached: delta-rs writes beside s3fs, so a cached listing would be stale.
    """
    env = os.environ if environ is None else environ
    options: dict[str, Any] = {"use_listings_cache": False}
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        options["endpoint_url"] = endpoint
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        options["client_kwargs"] = {"region_name": region}
    for option, variable in (
        ("key", "AWS_ACCESS_KEY_ID"),
        ("secret", "AWS_SECRET_ACCESS_KEY"),
        ("token", "AWS_SESSION_TOKEN"),
    ):
        if env.get(variable):
            options[option] = env[variable]
    return options


def make_dirs(path: StoragePath) -> None:
    """Create a local folder and its parents; on an object store there is nothing to create."""
    if is_local(path):
        path.mkdir(parents=True, exist_ok=True)


@contextmanager
def staged(path: StoragePath) -> Iterator[Path]:
    """A local file to write `path` through, published only when the block succeeds.

    Locally it is a temporary name beside `path`, renamed into place (atomic); on an object
    store a temporary file uploaded in one PUT (atomic per object). On failure nothing appears.
    """
    if is_local(path):
        temporary = path.with_name(f".{path.name}.partial")
        try:
            yield temporary
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return
    with tempfile.TemporaryDirectory(prefix="lakehouse-") as folder:
        temporary = Path(folder) / path.name
        yield temporary
        path.fs.put_file(str(temporary), path.path)


@contextmanager
def readable(path: StoragePath) -> Iterator[Path | BinaryIO]:
    """For readers taking a path or a file object: the path itself when local, else opened."""
    if is_local(path):
        yield path
        return
    with path.open("rb") as handle:
        yield handle


def read_parquet(path: StoragePath, columns: list[str] | None = None) -> pl.DataFrame:
    """A Parquet file as a DataFrame, wherever it is."""
    with readable(path) as source:
        return pl.read_parquet(source, columns=columns)


def write_parquet(frame: pl.DataFrame, path: StoragePath) -> None:
    """Write a DataFrame as Parquet in one atomic step."""
    with staged(path) as local:
        frame.write_parquet(local)


def write_text_atomic(path: StoragePath, text: str) -> None:
    """Replace a text file in one atomic step (`staged`)."""
    with staged(path) as local:
        local.write_text(text)


def sha256_file(path: StoragePath) -> str:
    """Checksum a file in chunks, so large files need little memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remove_tree(path: StoragePath, *, ignore_errors: bool = False) -> None:
    """Delete a folder and everything under it (nothing when it does not exist)."""
    try:
        if is_local(path):
            if path.exists():
                shutil.rmtree(path)
        elif path.exists():
            path.fs.rm(path.path, recursive=True)
    except OSError:
        if not ignore_errors:
            raise


def move_tree(source: StoragePath, target: StoragePath) -> None:
    """Move a folder; on an object store every object is copied, then the source removed."""
    if is_local(source):
        shutil.move(str(source), str(target))
        return
    prefix = source.path.rstrip("/") + "/"
    files = source.fs.find(source.path)
    source.fs.copy(files, [f"{target.path}/{f.removeprefix(prefix)}" for f in files])
    source.fs.rm(files)
