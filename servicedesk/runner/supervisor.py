"""Child processes that start in their own process groups and stop together, in order.

Why their own groups: Ctrl-C in a terminal signals the whole foreground group at once, which
would stop PostgreSQL while gunicorn still serves and leave Celery's pool mid-task. Instead
only the runner hears the terminal; it stops each child deliberately (the child's own
graceful signal to the group leader, then SIGKILL to whatever is left of the group), and the
database after them. On Linux each child also gets SIGTERM if the runner itself dies without
cleaning up (``kill -9``), so not even then do gunicorn or Celery outlive it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

logger = logging.getLogger("servicedesk.runner")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking the kernel to SIGTERM the child when the runner dies
    (Linux only; elsewhere ``None`` and the orderly stop is all there is)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: nothing to resolve after

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


class StopRequested:
    """Records SIGINT/SIGTERM instead of raising, so no step is interrupted half-way (a
    ``KeyboardInterrupt`` inside ``pgserver`` could leave a server nobody stops). Code polls
    it between steps and while waiting; a second signal asks for a quicker, harsher stop."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0

    def install(self) -> StopRequested:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            self.signum = signum
            logger.info("%s received: stopping", signal.Signals(signum).name)
        else:
            logger.info("stopping now, without waiting for graceful shutdowns to finish")

    def __bool__(self) -> bool:
        return self.signum is not None

    @property
    def urgent(self) -> bool:
        return self.count > 1


class Interrupted(Exception):
    """A stop was requested while a step ran; the step was stopped with exit code ``code``
    and the caller's cleanup takes over."""

    def __init__(self, name: str, code: int) -> None:
        super().__init__(f"{name} interrupted (exit code {code})")
        self.code = code


@dataclass
class Child:
    """One supervised process. ``stop_signal`` is what the program treats as "shut down
    gracefully" (SIGTERM for gunicorn and Celery, SIGINT for pytest and manage.py)."""

    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 10.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def _signal_group(self, signum: int) -> None:
        # The child called setsid(), so its pid is also its process group id; the group
        # outlives the leader while any member (a gunicorn worker, a Celery pool process) does.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def stop(self, stop: StopRequested | None = None) -> int | None:
        """Ask the leader to shut down, wait up to ``stop_timeout`` (less after a second
        Ctrl-C), then SIGKILL the whole group. Guarantees the group is gone on return;
        returns the leader's exit code."""
        if self.running():
            logger.info("stopping %s (pid %s)", self.name, self.pid)
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(self.stop_signal)
            deadline = time.monotonic() + self.stop_timeout
            while self.running() and time.monotonic() < deadline:
                if stop is not None and stop.urgent:
                    break
                time.sleep(0.1)
        if self.running():
            logger.warning("%s did not stop in time: killing it", self.name)
        # Whatever is left in the group (orphaned workers) goes too.
        self._signal_group(signal.SIGKILL)
        return self.process.wait()


@dataclass
class Supervisor:
    """Starts children with one environment and working directory; stops them in reverse
    order of start. Every child it started is stopped by :meth:`stop_all`."""

    stop: StopRequested
    env: Mapping[str, str]
    cwd: Path
    children: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        stop_signal: int = signal.SIGTERM,
        stop_timeout: float = 10.0,
    ) -> Child:
        process = subprocess.Popen(
            list(argv),
            cwd=self.cwd,
            env=dict(self.env),
            start_new_session=True,
            # preexec_fn is unsafe only with threads around fork; the runner has none.
            preexec_fn=_die_with_parent(),
        )
        child = Child(name, process, stop_signal, stop_timeout)
        self.children.append(child)
        logger.debug("started %s (pid %s): %s", name, child.pid, " ".join(argv))
        return child

    def run(self, name: str, argv: Sequence[str], *, stop_signal: int = signal.SIGINT) -> int:
        """Run one step to completion and return its exit code; on a stop request, stop it
        and raise :class:`Interrupted`."""
        logger.info("running %s", name)
        child = self.start(name, argv, stop_signal=stop_signal, stop_timeout=30.0)
        try:
            while child.running():
                if self.stop:
                    raise Interrupted(name, child.stop(self.stop))
                time.sleep(0.1)
            return child.process.returncode
        finally:
            child.stop()
            self.children.remove(child)

    def watch(self, interval: float = 0.5) -> Child | None:
        """Wait until a stop is requested (returns ``None``) or a child exits on its own
        (returns that child)."""
        while not self.stop:
            for child in self.children:
                if not child.running():
                    return child
            time.sleep(interval)
        return None

    def stop_all(self) -> None:
        while self.children:
            self.children.pop().stop(self.stop)
