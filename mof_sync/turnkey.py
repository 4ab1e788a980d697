"""The MOF Turnkey program's folders: where documents go, and what Turnkey did with them.

Turnkey picks up every `*.xml` in `<data root>/UpCast/B2PMESSAGE/<E0401|E0402>/SRC/` and moves
it to `BAK` once processed or `ERR` when it failed (DOMAIN-NOTES 3.1). A document is written
atomically: to a hidden temporary name that Turnkey does not pick up, fsynced, renamed to its
final name in the same folder, and the folder fsynced, so Turnkey never sees half a file and a
crash never loses one it was told about.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mof_sync.documents import MigDocument
from mof_sync.mig import MessageType

# Turnkey 3.2's message id ("common name"): <MIG>-<type>-<YYYYMMDD>-<HHmmssSSS>-<UUID>, e.g.
# 4.1-F0401-20260824-141623456-550e8400-e29b-41d4-a716-446655440000 (DOMAIN-NOTES 3.2).
_COMMON_NAME = re.compile(
    r"(?P<mig>\d\.\d)-(?P<type>[A-Z]\d{4})-(?P<date>\d{8})-(?P<time>\d{9})-"
    r"(?P<uuid>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
)
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# After Pack a file is named <source>_<fromParty>_<toParty>_<common name>_<count>.
_PACK_NAME = re.compile(r"(?P<source>.+\.xml)_[^_]*_[^_]*_(?P<common>[^_]+)_-?\d+")


@dataclass(frozen=True, slots=True)
class TurnkeyFolders:
    """A Turnkey data root and, optionally, where its results and packed files are.

    `result_dirs` default to `<root>/Unpack/BAK/ProcessResult` and `.../SummaryResult` (read
    recursively); `pack_dirs` are extra folders whose `<source>_<from>_<to>_<id>_<n>` file names
    tie our files to Turnkey message ids (the UpCast BAK and ERR folders are always looked at).
    """

    root: Path
    result_dirs: tuple[Path, ...] = ()
    pack_dirs: tuple[Path, ...] = ()
    inbound_dir: Path | None = None

    def message_dir(self, message: MessageType) -> Path:
        return self.root / "UpCast" / "B2PMESSAGE" / message.value

    def src(self, message: MessageType) -> Path:
        return self.message_dir(message) / "SRC"

    def bak(self, message: MessageType) -> Path:
        return self.message_dir(message) / "BAK"

    def err(self, message: MessageType) -> Path:
        return self.message_dir(message) / "ERR"

    def results(self) -> tuple[Path, ...]:
        unpacked = self.root / "Unpack" / "BAK"
        return self.result_dirs or (unpacked / "ProcessResult", unpacked / "SummaryResult")

    def e0501_dir(self) -> Path:
        """Where Turnkey leaves downloaded E0501s: `<root>/Unpack/BAK/E0501/*/*/*`."""
        return self.inbound_dir or self.root / "Unpack" / "BAK" / "E0501"


@dataclass(frozen=True, slots=True)
class FolderSnapshot:
    """What one look at a message's folders found, by file name."""

    src: frozenset[str]
    bak: Mapping[str, Path]
    err: Mapping[str, Path]
    message_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def temporary_name(name: str) -> str:
    # Hidden and not ending in .xml: Turnkey only takes *.xml, and never a half-written one.
    return f".{name}.tmp"


def stage(directory: Path, name: str, data: bytes) -> Path:
    """Write `data` under the temporary name of `name` and fsync it; returns that path."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / temporary_name(name)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return temporary


def publish(temporary: Path, name: str) -> Path:
    """Rename a staged file to its final name (atomic within the folder)."""
    final = temporary.with_name(name)
    os.replace(temporary, final)
    return final


def sync_directory(directory: Path) -> None:
    """Make renames in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(directory: Path, name: str, data: bytes) -> Path:
    final = publish(stage(directory, name, data), name)
    sync_directory(directory)
    return final


def hand_off(folders: TurnkeyFolders, document: MigDocument) -> Path:
    """Put one document into its SRC folder (untracked; see outbox.TurnkeyOutbox)."""
    return write_atomically(folders.src(document.key.message), document.file_name, document.xml)


def set_aside(path: Path, attempt: int) -> Path:
    """Rename a failed copy in ERR so the next attempt's copy is not mistaken for it."""
    target = path.with_name(f"{path.name}.attempt{attempt}.failed")
    os.replace(path, target)
    return target


def correlation_id(text: str) -> str:
    """The part of a Turnkey message id that ties a file, a log row and a result together."""
    text = text.strip()
    common = _COMMON_NAME.search(text)
    if common is not None:
        return common.group("uuid").lower()
    plain = _UUID.search(text)
    return plain.group(0).lower() if plain is not None else text


def pack_source(name: str) -> tuple[str, str] | None:
    """(source file name, message id) of a packed file name, or None."""
    match = _PACK_NAME.fullmatch(name)
    if match is None or not _COMMON_NAME.fullmatch(match.group("common")):
        return None
    return match.group("source"), match.group("common")


def snapshot(folders: TurnkeyFolders, message: MessageType) -> FolderSnapshot:
    """One look at SRC, BAK (recursively), ERR (recursively) and the pack folders."""
    src = frozenset(path.name for path in _files(folders.src(message), recursive=False))
    bak = {path.name: path for path in _files(folders.bak(message))}
    err = {path.name: path for path in _files(folders.err(message))}
    ids: dict[str, list[str]] = {}
    names = [*bak, *err]
    for directory in folders.pack_dirs:
        names.extend(path.name for path in _files(directory))
    for name in names:
        found = pack_source(name)
        if found is not None:
            ids.setdefault(found[0], []).append(found[1])
    return FolderSnapshot(src, bak, err, {name: tuple(v) for name, v in ids.items()})


def result_files(folders: TurnkeyFolders) -> list[Path]:
    return sorted(path for directory in folders.results() for path in _files(directory))


def e0501_files(folders: TurnkeyFolders) -> list[Path]:
    """The downloaded E0501 documents, oldest path first, to feed `read_e0501_file`."""
    return sorted(_files(folders.e0501_dir()))


def _files(directory: Path, *, recursive: bool = True) -> Iterator[Path]:
    """Regular files, skipping our own hidden temporaries; a missing folder has none."""
    if not directory.is_dir():
        return
    if not recursive:
        for entry in os.scandir(directory):
            if entry.is_file() and not entry.name.startswith("."):
                yield Path(entry.path)
        return
    for parent, _, names in os.walk(directory):
        for name in names:
            if not name.startswith("."):
                yield Path(parent, name)
