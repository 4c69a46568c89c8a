"""Batch areas as tasks on a ``dask.distributed`` cluster.

Each area is one task. A task receives only its own extract (a folder of GeoParquet
layers on a path every worker can read, or the same files as bytes), analyses the area,
renders its files in a scratch folder of the worker and returns them as bytes with the
area's summary. The client publishes each area folder through
:func:`circles.outdir.output_folder` (marker, atomic swap) as results arrive, so workers
need no access to the output disk.

A worker lost in the middle of a task (killed, out of memory, its machine gone) makes
the scheduler run the task again on another worker, up to Dask's
``distributed.scheduler.allowed-failures`` times; only then is the area recorded as
failed. A task's result does not depend on where or how often it ran.

A :class:`~distributed.LocalCluster` started here binds to 127.0.0.1 and its worker
processes exit when this process dies (Dask's nanny holds a pipe to each worker
process, which exits at once when the pipe closes).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from circles.area_job import BatchOptions
from circles.errors import CirclesError, InputError

__all__ = ["AreaProduct", "AreaTask", "compute_area", "dask_client", "run_tasks"]

log = logging.getLogger(__name__)

#: How long to wait for a scheduler to answer, in seconds, unless Dask's configuration
#: ``distributed.comm.timeouts.connect`` (``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT``) says otherwise.
CONNECT_TIMEOUT_S = 30
#: Fewest tasks kept submitted at once (see :func:`in_flight_limit`).
MIN_IN_FLIGHT = 4


@dataclass(frozen=True)
class AreaTask:
    """One area's work as sent to a worker.

    Attributes
    ----------
    index : int
        Position of the area in the batch.
    name : str
        Exact area name.
    folder : str
        The area's folder name inside the batch folder.
    extract : str or dict of str to bytes
        The area's layers (:mod:`circles.layers_io`): a folder path every worker can
        read, or its files.
    boundary : GeoDataFrame
        The area's own row of ``areas`` (``name`` and geometry), in WGS-84.
    subareas : GeoDataFrame or None
        The sub-areas that intersect the area, summarised inside it; None when none were given.
    options : BatchOptions
        What every area of the batch shares (settings, population, sites, map, tiers).
    fingerprint : dict or None
        ``Fingerprint.as_dict()`` of what produces the area, recorded in its marker and summary.
    status, reason : str
        What the outcome says when the area succeeds (``"done"``/``"recomputed"``, why).
    """

    index: int
    name: str
    folder: str
    extract: str | dict[str, bytes]
    boundary: gpd.GeoDataFrame
    subareas: gpd.GeoDataFrame | None
    options: BatchOptions = field(default_factory=BatchOptions)
    fingerprint: dict | None = None
    status: str = "done"
    reason: str = ""


@dataclass(frozen=True)
class AreaProduct:
    """What a task returns: the outcome fields and the area folder's files.

    Attributes
    ----------
    index : int
        Position of the area in the batch (as :attr:`AreaTask.index`).
    status : str
        As :class:`circles.batch.AreaOutcome`.
    summary : dict
        The area's summary with its fingerprint (``StudySummary.to_dict()``); empty for a failed area.
    error : str
        The one-line error of a failed area; empty otherwise.
    files : dict of str to bytes
        File name -> content; empty for a failed area.
    """

    index: int
    status: str
    summary: dict = field(default_factory=dict)
    error: str = ""
    files: dict[str, bytes] = field(default_factory=dict)


def _read_extract(extract: str | dict[str, bytes]):
    from circles.layers_io import LayersUnreadableError, layers_from_files, read_layers

    try:
        return read_layers(Path(extract)) if isinstance(extract, str) else layers_from_files(extract)
    except LayersUnreadableError as exc:
        raise InputError(
            f"the area's extract cannot be read on this worker ({exc})",
            where=extract if isinstance(extract, str) else None,
            parameter="work_dir",
            fix="give a `work_dir` that every worker can read",
        ) from None


def compute_area(task: AreaTask) -> AreaProduct:
    """Analyse one area and render its files (runs on a worker).

    Parameters
    ----------
    task : AreaTask
        The area's work: where its extract is, its boundary and the batch's settings.

    Returns
    -------
    AreaProduct
        A failed product (with the one-line error) for bad input; never raises for it.
    """
    from circles.area_job import render_area, study_area
    from circles.report import with_fingerprint

    try:
        result = study_area(
            _read_extract(task.extract),
            name=task.name,
            boundary=task.boundary,
            subareas=task.subareas,
            options=task.options,
        )
        scratch = Path(tempfile.mkdtemp(prefix="circles-area-"))
        try:
            folder = render_area(result, scratch / "area", task.options, task.fingerprint)
            files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if _is_result_file(p)}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        summary = with_fingerprint(result.summary, task.fingerprint).to_dict()
        return AreaProduct(task.index, task.status, summary=summary, files=files)
    except CirclesError as exc:
        return AreaProduct(task.index, "failed", error=str(exc))
    except Exception as exc:  # one broken area must not stop the batch
        return AreaProduct(task.index, "failed", error=f"unexpected error: {exc!r}")


def _is_result_file(path: Path) -> bool:
    from circles.markers import MARKER_NAME

    return path.is_file() and path.name != MARKER_NAME


def publish(product: AreaProduct, target: Path, name: str, fingerprint: dict | None) -> None:
    """Write a task's files as the area folder ``target`` (checked, marked, swapped in).

    Parameters
    ----------
    product : AreaProduct
        A successful task's product, whose ``files`` are written.
    target : Path
        The area folder inside the batch folder.
    name : str
        The exact area name.
    fingerprint : dict or None
        ``Fingerprint.as_dict()`` recorded in the folder's marker.
    """
    from circles.outdir import output_folder

    with output_folder(target, name=name, fingerprint=fingerprint, area_name=name) as tmp:
        for file_name, data in product.files.items():
            (tmp / file_name).write_bytes(data)


@contextlib.contextmanager
def dask_client(scheduler: object = None, workers: int = 2) -> Iterator[object]:
    """A ``distributed.Client``: of an existing cluster, or of a new local one.

    Parameters
    ----------
    scheduler : str, distributed.Client or None
        A scheduler address (``tcp://host:8786``), the path of a scheduler file
        (``dask scheduler --scheduler-file``), a client to use as is, or None to
        start a :class:`~distributed.LocalCluster` of ``workers`` processes with one
        thread each on 127.0.0.1 (stopped on leaving).
    workers : int
        Worker processes of a local cluster.

    Yields
    ------
    distributed.Client
    """
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is not None:
        import dask

        timeout = dask.config.get("distributed.comm.timeouts.connect", CONNECT_TIMEOUT_S)
        where = (
            {"scheduler_file": str(scheduler)}
            if Path(str(scheduler)).is_file()
            else {"address": str(scheduler)}
        )
        try:
            client = Client(**where, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                parameter="scheduler",
                fix="start the scheduler or check the address in `scheduler`",
            ) from None
        with client:
            yield client
        return
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    with cluster, Client(cluster) as client:
        yield client


def in_flight_limit(client: object) -> int:
    """How many tasks to keep submitted at once: twice the cluster's threads, at least :data:`MIN_IN_FLIGHT`.

    Parameters
    ----------
    client : distributed.Client
        A connected client; its workers' thread counts are summed.

    Returns
    -------
    int
    """
    return max(MIN_IN_FLIGHT, 2 * sum(client.nthreads().values()))


def run_tasks(
    client: object,
    tasks: Iterable[AreaTask],
    publish_one: Callable[[AreaTask, AreaProduct], None],
) -> None:
    """Submit the tasks a few at a time and hand each product to ``publish_one`` as it arrives.

    At most :func:`in_flight_limit` tasks are submitted at once (checked again as workers
    join or leave), so a batch of thousands of areas holds only that many extracts in
    the work folder, or in memory when they travel with the tasks; ``tasks`` may be a
    generator that writes each extract when its task is about to be submitted.

    Parameters
    ----------
    client : distributed.Client
        A connected client the tasks are submitted to.
    tasks : iterable of AreaTask
        The areas to compute, taken one at a time as room frees up.
    publish_one : callable
        Called in this process with each task and its product (a task whose workers
        kept dying gets a failed product).
    """
    import uuid

    from distributed import as_completed

    run = uuid.uuid4().hex[:12]
    pending = iter(tasks)
    by_key: dict[str, AreaTask] = {}
    running = as_completed()

    def submit_more() -> None:
        """Submit pending tasks until :func:`in_flight_limit` tasks are running (or none are left)."""
        while len(by_key) < in_flight_limit(client):
            task = next(pending, None)
            if task is None:
                return
            future = client.submit(compute_area, task, key=f"circles-area-{run}-{task.index}")
            by_key[future.key] = task
            running.add(future)

    submit_more()
    for future in running:
        task = by_key.pop(future.key)
        product = _product_of(future, task)
        future.release()
        publish_one(task, product)
        submit_more()


def _product_of(future: object, task: AreaTask) -> AreaProduct:
    from distributed.scheduler import KilledWorker

    try:
        return future.result()
    except KilledWorker as exc:
        return AreaProduct(task.index, "failed", error=f"its workers died while computing it ({exc})")
    except Exception as exc:  # a task that could not even run (e.g. a worker without circles)
        return AreaProduct(task.index, "failed", error=f"unexpected error on a worker: {exc!r}")
