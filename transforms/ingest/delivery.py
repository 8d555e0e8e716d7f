"""Find deliveries in the landing folder, fingerprint their files, and quarantine bad ones."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from transforms.catalogue import Dataset
from transforms.config import Environment
from transforms.ingest.errors import DeliveryRejected
from transforms.storage import StoragePath, make_dirs, move_tree
from transforms.storage import sha256_file as sha256_file  # re-exported: moved to storage


@dataclass(frozen=True)
class Delivery:
    """One delivery folder `landing/<dataset>/<delivery_id>/` and its files."""

    dataset: str
    delivery_id: str
    folder: StoragePath
    files: tuple[StoragePath, ...]
    sha256: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """Identity of the content, independent of the delivery id (spots re-deliveries)."""
        digest = hashlib.sha256()
        for path, sha in zip(self.files, self.sha256, strict=True):
            digest.update(f"{path.name}:{sha}\n".encode())
        return digest.hexdigest()

    def label(self, path: StoragePath) -> str:
        """How a file is named in errors and lineage: `<dataset>/<delivery_id>/<file>`."""
        return f"{self.dataset}/{self.delivery_id}/{path.relative_to(self.folder).as_posix()}"


def delivery_folders(env: Environment, dataset: Dataset) -> list[StoragePath]:
    """Delivery folders of a dataset in delivery order (ids sort by date)."""
    root = env.landing / dataset.name
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def open_delivery(dataset: Dataset, folder: StoragePath) -> Delivery:
    """Collect and hash the files of a delivery matching the catalogue's glob."""
    files = tuple(sorted(p for p in folder.glob(dataset.source.glob) if p.is_file()))
    return Delivery(
        dataset=dataset.name,
        delivery_id=folder.name,
        folder=folder,
        files=files,
        sha256=tuple(sha256_file(p) for p in files),
    )


def quarantine(env: Environment, delivery: Delivery, rejection: DeliveryRejected) -> StoragePath:
    """Move the whole delivery out of landing, with a `reason.json` a steward can act on."""
    target = env.quarantine / delivery.dataset / delivery.delivery_id
    suffix = 1
    while target.exists():
        suffix += 1
        target = env.quarantine / delivery.dataset / f"{delivery.delivery_id}.{suffix}"
    make_dirs(target.parent)
    move_tree(delivery.folder, target)
    reason = {
        "dataset": delivery.dataset,
        "delivery_id": delivery.delivery_id,
        "quarantined_at": datetime.now(UTC).isoformat(),
        "files": {p.name: sha for p, sha in zip(delivery.files, delivery.sha256, strict=True)},
        **rejection.as_dict(),
    }
    (target / "reason.json").write_text(json.dumps(reason, indent=2) + "\n")
    return target
