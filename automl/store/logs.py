"""Trial logs: what a trial's worker printed while it ran (stdout and stderr), one per trial.

A trial's log is ``logs/<study>/trial-<n>.log`` in the artifact folder, written by its
worker as the trial runs (object storage: an object under that key, sent when the trial
ends). The place is made from the study name and the trial number only, never read from
storage. The artifact folder is not trusted: readers and writers follow no symbolic link,
readers read regular files only, at most :data:`MAX_BYTES` of one, and everything written or
shown has storage passwords and the signing key scrubbed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from automl.store.redact import mask

LOGS = "logs"
TAIL = 20  # lines of a failed trial's log shown with its failure
MAX_TAILS = 20  # failed trials whose tails a study record carries (the last ones)
MAX_BYTES = 4 * 2**20  # a reader reads the end of a log, this much at most
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}")
_FILE = re.compile(r"trial-(\d{1,9})\.log")
_WALK = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def folder_name(study: str) -> str:
    """The study's log folder name: its own name when plain ASCII, else a safe form and a
    short hash of the real name (``a/b`` and ``a_b`` never share a folder)."""
    if _PLAIN.fullmatch(study):
        return study
    safe = re.sub(r"[^A-Za-z0-9_.+-]+", "_", study)[:100].lstrip(".+-") or "study"
    return f"{safe}-{hashlib.sha256(study.encode('utf-8')).hexdigest()[:8]}"


def key(study: str, number: int) -> str:
    """The log's place in the artifact store, relative to it."""
    return f"{LOGS}/{folder_name(study)}/trial-{int(number)}.log"


def local_folder(url: str) -> Path | None:
    """The artifact folder of ``url``; None when artifacts go to object storage."""
    from optuna.artifacts import FileSystemArtifactStore

    from automl.store import storage

    store = storage.artifact_store(url, create=False)
    return storage.artifact_dir(url) if isinstance(store, FileSystemArtifactStore) else None


def scrub(text: str) -> str:
    """``text`` without storage passwords (any URL's, and those this process knows) or the
    signing key."""
    secret = os.environ.get("AUTOML_SECRET") or ""
    text = mask("\n" + text)[1:]  # a text, even one that starts with a URL: mask each URL
    return text.replace(secret, "***") if len(secret) >= 8 else text


def shown(text: str) -> str:
    """A log as a terminal would show it: a line rewritten after ``\\r`` shows its last form."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in lines)


# Writing (the worker) ----------------------------------------------------------------------


@dataclass
class Sink:
    """An open log: the worker's output goes to ``fd``; :meth:`close` sends it when the
    artifacts are in object storage."""

    fd: int
    send: Callable[[], None] | None = None
    closed: bool = field(default=False)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):
            os.close(self.fd)
        if self.send is not None:
            self.send()


def open_sink(url: str, study: str, number: int) -> Sink:
    """A fresh log for trial ``number`` (an old file of that name is replaced, never
    written through)."""
    folder = local_folder(url)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        parts = key(study, number).split("/")
        with _opened_dir(folder, parts[:-1], create=True) as (dfd, where):
            with contextlib.suppress(FileNotFoundError):
                _unlink(parts[-1], dfd, where)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
            return Sink(_open(parts[-1], flags, dfd, where))
    fd, tmp = tempfile.mkstemp(prefix="automl-trial-", suffix=".log")

    def send() -> None:
        from automl.store import storage

        try:
            with open(tmp, "rb") as body:
                storage.artifact_store(url).write(key(study, number), body)
        finally:
            os.unlink(tmp)

    return Sink(fd, send)


# Reading -----------------------------------------------------------------------------------


def read(url: str, study: str, number: int) -> str | None:
    """Trial ``number``'s log (its last :data:`MAX_BYTES`), scrubbed; None when it has none."""
    folder = local_folder(url)
    if folder is None:
        data = _read_object(url, key(study, number))
    else:
        parts = key(study, number).split("/")
        try:
            with _opened_dir(folder, parts[:-1], create=False) as (dfd, where):
                data = _read_file(parts[-1], dfd, where)
        except OSError:
            return None
    if data is None:
        return None
    text = data.decode("utf-8", errors="replace")
    if len(data) >= MAX_BYTES:  # the first line read may be cut: start at the next one
        text = text.partition("\n")[2]
    return scrub(text)


def tail(text: str, lines: int = TAIL) -> list[str]:
    """The last ``lines`` lines of a log as shown (trailing blank lines dropped)."""
    found = shown(text).rstrip("\n").split("\n")
    return found[-lines:] if found != [""] else []


@dataclass
class StudyLogs:
    """A study's trial logs as a reader finds them.

    Attributes:
        folder: the study's log folder (None when logs are objects in a bucket).
        files: trial number -> its log file, for the trials that have one.
        tails: the last lines of failed trials' logs (the last :data:`MAX_TAILS` failures).
    """

    folder: Path | None
    files: dict[int, Path] = field(default_factory=dict)
    tails: dict[int, list[str]] = field(default_factory=dict)


def study_logs(url: str, study: str, failed: list[int]) -> StudyLogs:
    """Which trials of ``study`` have a log, and the tails of the failed ones."""
    tails = {}
    for number in sorted(failed)[-MAX_TAILS:]:
        text = read(url, study, number)
        if text is not None:
            tails[number] = tail(text)
    folder = local_folder(url)
    if folder is None:
        return StudyLogs(None, {}, tails)
    here = folder / LOGS / folder_name(study)
    files = {n: here / f"trial-{n}.log" for n in _numbers(folder, study)}
    return StudyLogs(here, files, tails)


def remove_study_logs(url: str, study: str, numbers: list[int]) -> int:
    """Remove the logs of ``study`` (its trials ``numbers``) and, when empty, its folder;
    how many went. Only ``trial-<n>.log`` regular files go, never through a link."""
    from automl.store import storage

    folder = local_folder(url)
    if folder is None:  # object storage: the keys are known, no listing needed
        store = storage.artifact_store(url, create=False)
        for n in numbers:
            storage.remove(store, key(study, n))
        return len(numbers)
    gone = 0
    try:
        with _opened_dir(folder, [LOGS, folder_name(study)], create=False) as (dfd, where):
            for n in _numbers(folder, study):
                with contextlib.suppress(OSError):
                    _unlink(f"trial-{n}.log", dfd, where)
                    gone += 1
    except OSError:
        return gone
    with contextlib.suppress(OSError), _opened_dir(folder, [LOGS], create=False) as (dfd, where):
        if dfd >= 0:
            os.rmdir(folder_name(study), dir_fd=dfd)
        else:
            (where / folder_name(study)).rmdir()
    return gone


def _numbers(folder: Path, study: str) -> list[int]:
    """Trial numbers whose log is a regular file in the study's log folder."""
    found = []
    try:
        with _opened_dir(folder, [LOGS, folder_name(study)], create=False) as (dfd, where):
            names = os.listdir(dfd if dfd >= 0 else where)
            for name in names:
                m = _FILE.fullmatch(name)
                if m and stat.S_ISREG(_lstat(name, dfd, where).st_mode):
                    found.append(int(m.group(1)))
    except OSError:
        return []
    return sorted(found)


def _read_file(name: str, dfd: int, where: Path) -> bytes | None:
    try:
        fd = _open(name, os.O_RDONLY | _NOFOLLOW, dfd, where)
    except OSError:
        return None  # missing, or a link (refused)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        f.seek(max(0, info.st_size - MAX_BYTES))
        return f.read(MAX_BYTES)


def _read_object(url: str, name: str) -> bytes | None:
    from optuna.artifacts.exceptions import ArtifactNotFound

    from automl.store import storage

    try:
        with storage.artifact_store(url, create=False).open_reader(name) as body:
            data: bytes = body.read()
    except (ArtifactNotFound, FileNotFoundError):
        return None
    return data[-MAX_BYTES:]


# Folders walked one name at a time, never through a symbolic link --------------------------


@contextlib.contextmanager
def _opened_dir(base: Path, parts: list[str], *, create: bool) -> Iterator[tuple[int, Path]]:
    """The folder ``base/parts...`` as an open descriptor (-1 where the platform walks by
    path) and its path; each part is made when ``create``, and none may be a link."""
    where = base
    if not _WALK:
        for part in parts:
            where = where / part
            if create:
                with contextlib.suppress(FileExistsError):
                    where.mkdir()
            if where.is_symlink() or not where.is_dir():
                raise NotADirectoryError(f"{where} is not a folder")
        yield -1, where
        return
    fd = os.open(base, os.O_RDONLY | _DIRECTORY)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd, where = inner, where / part
        yield fd, where
    finally:
        os.close(fd)


def _open(name: str, flags: int, dfd: int, where: Path) -> int:
    if dfd >= 0:
        return os.open(name, flags, 0o644, dir_fd=dfd)
    if (where / name).is_symlink():
        raise OSError(f"{where / name} is a symbolic link")
    return os.open(where / name, flags, 0o644)


def _unlink(name: str, dfd: int, where: Path) -> None:
    if dfd >= 0:
        os.unlink(name, dir_fd=dfd)
    else:
        (where / name).unlink()


def _lstat(name: str, dfd: int, where: Path) -> os.stat_result:
    if dfd >= 0:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    return (where / name).lstat()
