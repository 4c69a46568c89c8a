"""A process pool whose workers die with the process that started them.

A pool's workers otherwise outlive a parent killed with SIGKILL (they are re-parented
to PID 1 and keep its pipes open). Each worker therefore asks Linux to kill it when its
parent dies (``prctl(PR_SET_PDEATHSIG)``), and on every system runs a watchdog thread
that exits the worker once its parent process id changes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

#: How often a worker's watchdog checks that its parent is alive, in seconds.
WATCHDOG_INTERVAL_S = 0.5
_PR_SET_PDEATHSIG = 1


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes that exit when this process dies.

    Parameters
    ----------
    workers : int

    Returns
    -------
    ProcessPoolExecutor
    """
    return ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),))


def die_with_parent(parent_pid: int) -> None:
    """Make the calling process exit when ``parent_pid`` (its parent) dies.

    Parameters
    ----------
    parent_pid : int
        The process id of the parent at the time the worker was started.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog still works
            pass
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="circles-watchdog", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCHDOG_INTERVAL_S)
    os._exit(1)
