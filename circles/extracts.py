"""Per-area extracts for the workers of a batch, and the batch run on a Dask cluster.

The region-wide inputs are read once (or come from the cache, :mod:`circles.cache`).
Each area's share, cut by :func:`circles.study_area.clip_inputs` (homes inside the area,
streets, clinics and buildings within the reach margin
:func:`circles.study_area.reach_margin_m`), is written once as GeoParquet layers
(:mod:`circles.layers_io`) under a work folder every worker can read, together with
stand-ins of the whole source's extents, so that the worker's analysis sees exactly
what the serial run sees. A task carries the path of its extract (or, without a shared
work folder, the extract's bytes) and the area's small frames; never the whole city.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from circles.area_job import BatchOptions
from circles.errors import CirclesError, OutputError
from circles.layers_io import layers_to_files, source_extent_of, write_layers
from circles.sources.assemble import Inputs
from circles.study_area import clip_inputs

__all__ = ["area_extract", "run_on_cluster", "work_folder"]


@contextmanager
def work_folder(parent: Path) -> Iterator[Path]:
    """A private folder for one batch's extracts inside ``parent``, removed on leaving.

    It is named and marked like circles' other temporary folders, so a later run
    removes it if this one is killed (:func:`circles.tempdirs.clean_debris`).

    Parameters
    ----------
    parent : Path
        A folder every worker can read (created when missing).

    Yields
    ------
    Path
    """
    from circles.markers import MARKER_NAME, marker_text
    from circles.tempdirs import clean_debris, new_temp_dir, remove_circles_dir

    try:
        parent.mkdir(parents=True, exist_ok=True)
        clean_debris(parent, MARKER_NAME)
        folder = new_temp_dir(parent)
        os.chmod(folder, 0o755)  # workers may run as another user of a shared file system
        text = marker_text(kind="work", state="writing", name=None, folder=folder.name)
        (folder / MARKER_NAME).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(
            f"cannot create a work folder ({exc.strerror or exc})",
            where=str(parent),
            parameter="work_dir",
            fix="choose a writable `work_dir`",
        ) from None
    try:
        yield folder
    finally:
        remove_circles_dir(folder, MARKER_NAME)


def area_extract(inputs: Inputs, area, settings, extent: Inputs, *, margin_m: float | None = None) -> Inputs:
    """One area's share of the region-wide inputs, with the source's extents attached.

    Parameters
    ----------
    inputs : Inputs
        Region-wide layers.
    area : shapely geometry
        The study area (WGS-84).
    settings : TravelSettings
        The batch's settings: the walking margin (longest band's distance plus two access legs, metres).
    extent : Inputs
        :func:`circles.layers_io.source_extent_of` of ``inputs``.
    margin_m : float, optional
        How far beyond the area to keep streets and facilities (default: the walking margin;
        facility tiers travelled by other modes reach farther).

    Returns
    -------
    Inputs
    """
    clipped, _ = clip_inputs(inputs, area, settings, margin_m=margin_m)
    return replace(clipped, source_extent=extent)


def run_on_cluster(
    inputs: Inputs,
    plans: list,
    options: BatchOptions,
    finished: Callable,
    *,
    scheduler: object = None,
    workers: int = 2,
    work_dir: str | Path | None = None,
) -> None:
    """Run the planned areas as Dask tasks and publish each area folder here.

    Parameters
    ----------
    inputs : Inputs
        Region-wide layers.
    plans : list of circles.batch.AreaPlan
        The areas to compute (those not reused), each with its folder and boundary.
    options : BatchOptions
        What every area shares (settings, population, sites, map, tiers).
    finished : callable
        ``finished(outcome, index)`` for each area.
    scheduler : str or distributed.Client, optional
        An existing cluster; default a local one of ``workers`` processes.
    workers : int
        Processes of the local cluster (one thread each) when no ``scheduler`` is given.
    work_dir : str or Path, optional
        A folder every worker can read; default the batch folder for a
        ``LocalCluster``, otherwise none (the extracts travel with the tasks).
    """
    from circles.distributed import dask_client

    with dask_client(scheduler, workers) as client:
        out_dir = plans[0].folder.parent
        parent = Path(work_dir) if work_dir is not None else _local_work_parent(client, out_dir)
        if parent is None:
            _submit(client, inputs, plans, options, finished, None)
            return
        with work_folder(parent) as folder:
            _submit(client, inputs, plans, options, finished, folder)


def _local_work_parent(client, out_dir: Path) -> Path | None:
    """The batch folder when the cluster's workers run on this machine; None (extracts as bytes) else."""
    from distributed import LocalCluster

    return out_dir if isinstance(getattr(client, "cluster", None), LocalCluster) else None


def _submit(client, inputs: Inputs, plans: list, options: BatchOptions, finished: Callable, folder) -> None:
    from circles.batch import AreaOutcome
    from circles.distributed import AreaTask, publish, run_tasks

    extent = source_extent_of(inputs)
    by_index = {plan.index: plan for plan in plans}

    def tasks() -> Iterator[AreaTask]:
        """Each area's task, its extract written just before it is submitted."""
        for plan in plans:
            extract = area_extract(inputs, plan.area, options.settings, extent, margin_m=plan.margin_m)
            if folder is None:
                where: str | dict[str, bytes] = layers_to_files(extract)
            else:
                where = str(folder / f"{plan.index:06d}")
                _write_extract(extract, Path(where))
            yield AreaTask(
                index=plan.index,
                name=plan.name,
                folder=plan.folder.name,
                extract=where,
                boundary=plan.boundary,
                subareas=plan.subareas,
                fingerprint=plan.fingerprint,
                status=plan.status,
                reason=plan.reason,
                options=options,
            )

    def publish_one(task, product) -> None:
        plan = by_index[task.index]
        status, error = product.status, product.error
        if status != "failed":
            try:
                publish(product, plan.folder, plan.name, plan.fingerprint)
            except CirclesError as exc:  # the area fails, the batch goes on
                status, error = "failed", str(exc)
            except Exception as exc:
                status, error = "failed", f"unexpected error: {exc!r}"
        summary = product.summary if status != "failed" else {}
        finished(AreaOutcome(plan.name, plan.folder.name, status, error, summary, plan.reason), plan.index)
        if folder is not None:
            shutil.rmtree(folder / f"{plan.index:06d}", ignore_errors=True)

    run_tasks(client, tasks(), publish_one)


def _write_extract(extract: Inputs, path: Path) -> None:
    try:
        write_layers(extract, path)
    except OSError as exc:
        raise OutputError(
            f"cannot write an area's extract ({exc.strerror or exc})",
            where=str(path),
            parameter="work_dir",
            fix="check free space, or choose another `work_dir`",
        ) from None
