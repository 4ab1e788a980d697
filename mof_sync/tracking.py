"""The life of a document handed to Turnkey, as small pure functions.

    written --(left SRC, in BAK)--> picked_up --(result OK / log C)--> confirmed
       |  ^                             |
       |  '---- retry (attempt + 1) ----+--(ERR / error result / log E, I)--> failed
       '--(vanished before pickup: rewritten, same attempt)

A failure is retried (the same bytes written again) until `max_attempts` writes were made, or
surfaced at once for an error that resending cannot fix. Confirmed and failed are final.
A key's document is never handed over twice: the same content again is a no-op, other content
needs an explicit correction, the next revision.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from mof_sync.documents import DocumentKey, MigDocument
from mof_sync.mig import MigVersion

TURNKEY_ERR = "TURNKEY_ERR"
# E0201 訊息重複: the platform already has this message, so sending it again cannot help.
NEVER_RETRY = frozenset({"E0201"})
DEFAULT_MAX_ATTEMPTS = 3


class DocState(enum.Enum):
    WRITTEN = "written"
    PICKED_UP = "picked_up"
    CONFIRMED = "confirmed"
    FAILED = "failed"


OPEN_STATES = (DocState.WRITTEN, DocState.PICKED_UP)


class EventKind(enum.Enum):
    PICKED_UP = "picked_up"  # left SRC and is in BAK (or the log says P/G)
    MOVED_TO_ERR = "moved_to_err"  # Turnkey put the file in ERR
    ACCEPTED = "accepted"  # a result without error, or log status C
    REJECTED = "rejected"  # a result with an error code, or log status E.../I
    VANISHED = "vanished"  # in none of SRC, BAK, ERR while written (e.g. a crash mid-write)


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    code: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    """The part of a tracked document the state machine decides on."""

    state: DocState
    attempts: int
    error_code: str | None = None
    error_detail: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """Where an event leads, and whether the document's bytes must be written again."""

    progress: Progress
    rewrite: bool = False


def advance(current: Progress, event: Event, max_attempts: int) -> Step:
    """One transition."""
    if current.state not in OPEN_STATES:
        return Step(current)
    if event.kind is EventKind.PICKED_UP:
        return Step(replace(current, state=DocState.PICKED_UP))
    if event.kind is EventKind.ACCEPTED:
        return Step(Progress(DocState.CONFIRMED, current.attempts))
    if event.kind is EventKind.VANISHED:
        return Step(current, rewrite=current.state is DocState.WRITTEN)
    return _fail(current, event.code or TURNKEY_ERR, event.detail, max_attempts)


def _fail(current: Progress, code: str, detail: str, max_attempts: int) -> Step:
    if code in NEVER_RETRY or current.attempts >= max_attempts:
        return Step(Progress(DocState.FAILED, current.attempts, code, detail))
    return Step(Progress(DocState.WRITTEN, current.attempts + 1, code, detail), rewrite=True)


def advance_all(current: Progress, events: Iterable[Event], max_attempts: int) -> Step:
    """Apply events in order; stop at a rewrite, since later ones are about the old attempt."""
    step = Step(current)
    for event in events:
        step = advance(step.progress, event, max_attempts)
        if step.rewrite:
            break
    return step


@dataclass(frozen=True, slots=True)
class Outcome:
    """A result or log status about the document's current attempt."""

    ok: bool | None  # None: still in flight (log status P or G)
    code: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Sighting:
    """Everything one poll found about one document."""

    in_src: bool
    in_bak: bool
    in_err: bool
    outcomes: tuple[Outcome, ...] = ()


def events_for(sighting: Sighting) -> list[Event]:
    """Turn what was seen into events, most final last; rejections before acceptances."""
    if sighting.in_err and not sighting.in_src:
        return [Event(EventKind.MOVED_TO_ERR, TURNKEY_ERR, "Turnkey moved the file to ERR")]
    events: list[Event] = []
    left_src = not sighting.in_src
    if left_src and (sighting.in_bak or any(o.ok is None for o in sighting.outcomes)):
        events.append(Event(EventKind.PICKED_UP))
    rejected = [o for o in sighting.outcomes if o.ok is False]
    events.extend(Event(EventKind.REJECTED, o.code, o.detail) for o in rejected)
    if not rejected and any(o.ok for o in sighting.outcomes):
        events.append(Event(EventKind.ACCEPTED))
    if not events and not (sighting.in_src or sighting.in_bak):
        events.append(Event(EventKind.VANISHED))
    return events


class Verdict(enum.Enum):
    WRITE = "write"
    SKIP = "skip"  # this very document was handed over already: idempotent
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Prior:
    """A document of the same key handed over before."""

    name: str
    revision: int
    sha256: str


def decide_submission(
    documents: Sequence[MigDocument], prior: Sequence[Prior]
) -> tuple[Verdict, str]:
    """The verdict on all parts of one key's revision, handed over together.

    The first revision is 0; after that only the next revision (a correction) is written.
    """
    problem = _incomplete(documents)
    if problem:
        return Verdict.REFUSE, problem
    known = {item.name: item for item in prior}
    names = [document.file_name for document in documents]
    if all(name in known for name in names):
        if all(known[d.file_name].sha256 == d.sha256 for d in documents):
            return Verdict.SKIP, "already handed to Turnkey"
        return Verdict.REFUSE, _correction_needed(prior)
    revision = documents[0].revision
    latest = max((item.revision for item in prior), default=None)
    if latest is None and revision == 0:
        return Verdict.WRITE, "first revision"
    if latest is not None and revision == latest + 1:
        return Verdict.WRITE, f"correction {revision} of revision {latest}"
    if latest is None:
        return Verdict.REFUSE, f"the first revision of a key is 0, not {revision}"
    return Verdict.REFUSE, _correction_needed(prior)


def _correction_needed(prior: Sequence[Prior]) -> str:
    latest = max(item.revision for item in prior)
    return (
        f"revision {latest} of this key was already handed to Turnkey with other content; "
        f"it is never sent twice: request a correction as revision {latest + 1}"
    )


def _incomplete(documents: Sequence[MigDocument]) -> str | None:
    if not documents:
        return "no documents"
    first = documents[0]
    if any(d.key != first.key or d.revision != first.revision for d in documents):
        return "parts of different keys or revisions were grouped together"
    parts = sorted(d.part for d in documents)
    if any(d.parts != first.parts for d in documents) or parts != list(range(1, first.parts + 1)):
        return f"all {first.parts} parts of revision {first.revision} must be handed over together"
    return None


@dataclass(frozen=True, slots=True)
class TrackedDocument:
    """A document as the tracker knows it."""

    name: str
    key: DocumentKey
    revision: int
    part: int
    parts: int
    version: MigVersion
    state: DocState
    attempts: int
    error_code: str | None
    error_detail: str
    turnkey_id: str | None
    written_at: datetime
    updated_at: datetime

    @property
    def progress(self) -> Progress:
        return Progress(self.state, self.attempts, self.error_code, self.error_detail)
