"""One writer at a time per guide, across processes.

The lock is ``fcntl.flock`` on a file beside the guide folder (``.locks/<name>.lock``), so
it survives the folder being replaced and is released by the kernel when its holder dies, even
by ``kill -9``: a crashed save never leaves the guide locked. It is taken on the folder the path
resolves to, so a symlink to a guide and the guide's own path share one lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import GuideBusyError
from ..storage import try_flock

#: How long a save waits for another one to finish before giving up with a message.
DEFAULT_TIMEOUT = 15.0


def lock_path(root: Path) -> Path:
    """The lock file of the guide folder ``root`` (beside the folder it resolves to, not inside it)."""
    root = Path(root).resolve()
    return root.parent / ".locks" / f"{root.name}.lock"


@contextmanager
def guide_lock(root: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the guide's write lock; raise :class:`GuideBusyError` after ``timeout`` seconds.

    Not re-entrant: code holding the lock calls the ``*_locked`` functions of :mod:`.store`.
    """
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise GuideBusyError(
                    f"someone else is saving guide '{Path(root).name}' ({root}); try again in a moment"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)  # quick for short saves, gentle for long imports
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def guide_lock_if_free(root: Path) -> Iterator[bool]:
    """Hold the lock if nobody else does (yields True), else yield False at once; for tidying up."""
    path = lock_path(root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only data folder: nothing to tidy
        yield False
        return
    with try_flock(path) as got:
        yield got
