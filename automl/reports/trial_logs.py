"""A report's trial logs: a link to each trial's log, and the end of a failed trial's log
beside its failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from automl.store.logs import MAX_TAILS
from automl.store.records import StudyRecord

MAX_LINKS = 1000  # links to single logs on one page (the folder's link is always there)


@dataclass
class Failure:
    """A failed trial: why, and the last lines of its log (if it kept one)."""

    number: int
    reason: str
    detail: str
    tail: list[str] = field(default_factory=list)
    href: str | None = None  # its log file, file:// URI


@dataclass
class TrialLogs:
    """The logs a study's trials kept, and its last failures."""

    study: str
    folder: str | None  # the study's log folder, file:// URI (None: logs in a bucket)
    folder_path: str
    links: list[tuple[int, str]]  # (trial number, file:// URI of its log)
    failures: list[Failure]
    failed: int  # failed trials in all (failures holds the last MAX_TAILS)


def collect_logs(record: StudyRecord) -> TrialLogs | None:
    """What the report shows of trial logs; None when there are neither logs nor failures."""
    logs = record.logs
    numbers = {t.number for t in record.trials}  # a deleted study of this name left others
    found = (logs.files if logs else {}).items()
    files = {n: p.resolve().as_uri() for n, p in found if n in numbers}
    failed = [t for t in record.trials if t.state == "FAIL"]
    if not files and not failed:
        return None
    failures = [
        Failure(
            number=t.number,
            reason=t.fail_reason or "lost",
            detail=t.fail_detail,
            tail=list((logs.tails if logs else {}).get(t.number) or []),
            href=files.get(t.number),
        )
        for t in failed[-MAX_TAILS:]
    ]
    folder = logs.folder if logs is not None else None
    return TrialLogs(
        study=record.name,
        folder=folder.resolve().as_uri() if folder is not None and files else None,
        folder_path=str(folder) if folder is not None else "",
        links=sorted(files.items())[:MAX_LINKS],
        failures=failures,
        failed=len(failed),
    )
