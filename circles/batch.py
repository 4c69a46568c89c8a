"""Many study areas in one run: one parsed source, one folder per area, an index page.

Each area's folder is named after the area alone (:func:`circles.outdir.area_folder_name`)
and records the exact name and the fingerprint of what produced it. A finished area is
reused only when both match; otherwise it is recomputed, and the outcome says why. A
failing area is recorded and does not stop the others.

Areas run serially in this process, or as tasks on a ``dask.distributed`` cluster
(:mod:`circles.distributed`): a local one of ``workers`` processes, or an existing one
at ``scheduler``. On a cluster each task receives only its own area's extract
(:mod:`circles.extracts`), and this process writes every area folder and the index.
The tables are the same either way, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import shapely

from circles.area_job import BatchOptions, render_area, study_area
from circles.batch_index import combined_table, write_index
from circles.config import TravelSettings
from circles.crs import WGS84
from circles.errors import CirclesError, InputError
from circles.fingerprint import Described, describe, fingerprint, study_parts
from circles.outdir import OutputTarget, area_folder_names, check_output_dir, prepare_batch_dir
from circles.report import with_fingerprint
from circles.sources.assemble import Inputs
from circles.study_area import PopulationSpec
from circles.tiers import TierPlan

__all__ = [
    "AreaOutcome",
    "AreaPlan",
    "BatchJob",
    "check_area_folders",
    "combined_table",
    "run_batch",
    "write_index",
]


@dataclass(frozen=True)
class AreaOutcome:
    """What happened to one area of a batch.

    Attributes
    ----------
    name : str
        Area name.
    folder : str
        Output folder name (relative to the batch folder).
    status : str
        ``"done"`` (computed, no earlier results), ``"recomputed"`` (earlier results
        replaced), ``"skipped"`` (earlier results reused) or ``"failed"``.
    error : str
        The one-line error for failed areas.
    summary : dict
        The area's summary (from summary.json for skipped areas).
    reason : str
        Why the area was reused or recomputed, in plain words (e.g. ``"inputs
        changed: travel.speed_kmh"``).
    """

    name: str
    folder: str
    status: str
    error: str = ""
    summary: dict = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class BatchJob:
    """One area's work in this process: its share of the inputs, its folder and the batch's options."""

    name: str
    folder: Path
    inputs: Inputs
    boundary: gpd.GeoDataFrame
    subareas: gpd.GeoDataFrame | None
    options: BatchOptions
    fingerprint: dict | None = None
    status: str = "done"
    reason: str = ""


@dataclass(frozen=True)
class AreaPlan:
    """An area to compute, with what decides its folder and its reuse.

    Attributes
    ----------
    index : int
        Position in the batch.
    name : str
        The exact area name.
    folder : Path
        The area folder.
    boundary : GeoDataFrame
        The area's own row of ``areas`` (``name`` and geometry), in WGS-84.
    subareas : GeoDataFrame or None
        The sub-areas that intersect the area; None when none were given.
    fingerprint : dict
        ``Fingerprint.as_dict()`` of the area's inputs and parameters.
    status, reason : str
        ``"done"`` or ``"recomputed"``, and why.
    """

    index: int
    name: str
    folder: Path
    boundary: gpd.GeoDataFrame
    subareas: gpd.GeoDataFrame | None
    fingerprint: dict
    status: str
    reason: str
    margin_m: float | None = None

    @property
    def area(self) -> shapely.Geometry:
        """The area as one WGS-84 geometry."""
        return shapely.union_all(self.boundary.geometry.values)


def _run_job(job: BatchJob) -> AreaOutcome:
    def outcome(status: str, **kw) -> AreaOutcome:
        return AreaOutcome(job.name, job.folder.name, status, **kw)

    try:
        result = study_area(
            job.inputs, name=job.name, boundary=job.boundary, subareas=job.subareas, options=job.options
        )
        render_area(result, job.folder, job.options, job.fingerprint)
        summary = with_fingerprint(result.summary, job.fingerprint).to_dict()
        return outcome(job.status, summary=summary, reason=job.reason)
    except CirclesError as exc:
        return outcome("failed", error=str(exc), reason=job.reason)
    except Exception as exc:  # one broken area must not stop the batch
        return outcome("failed", error=f"unexpected error: {exc!r}", reason=job.reason)


def check_area_folders(names: list[str], out_dir: str | Path) -> list[tuple[str, OutputTarget]]:
    """Each area's folder name and checked location, before any work is done.

    Parameters
    ----------
    names : list of str
        Exact area names, unique.
    out_dir : str or Path
        The batch folder (need not exist yet).

    Returns
    -------
    list of (str, OutputTarget)
        Raises :class:`circles.errors.OutputError` for a folder that circles did not
        write or that holds another area's results, and :class:`InputError` for
        repeated names.
    """
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                f"several areas are named {name!r}",
                where="boundary",
                fix="give each area its own name, or merge them into one feature",
            )
        seen.add(name)
    check_output_dir(out_dir, kind="batch")
    folders = area_folder_names(names)
    return [
        (f, check_output_dir(Path(out_dir) / f, kind="area", area_name=n))
        for f, n in zip(folders, names, strict=True)
    ]


def _reuse(target: OutputTarget, fp, force: bool) -> tuple[str, str, dict | None]:
    """``(status, reason, summary)`` for an area whose folder may hold earlier results."""
    import json

    if target.marker is None:
        return "done", "", None
    if force:
        return "recomputed", "forced", None
    recorded = target.marker.get("fingerprint")
    if recorded is None:
        return "recomputed", "the earlier results record no fingerprint", None
    changes = fp.changes_from(recorded)
    if changes:
        return "recomputed", "inputs changed: " + ", ".join(changes[:5]), None
    try:
        summary = json.loads((target.path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "recomputed", "the earlier summary.json is unreadable", None
    return "skipped", "inputs and parameters unchanged", summary


def run_batch(
    inputs: Inputs,
    areas: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    settings: TravelSettings | None = None,
    population: PopulationSpec | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    workers: int = 1,
    scheduler: object = None,
    work_dir: str | Path | None = None,
    force: bool = False,
    offline_map: bool = False,
    recommend_sites: int = 0,
    candidates: gpd.GeoDataFrame | None = None,
    provenance: object = None,
    progress: Callable[[AreaOutcome], None] | None = None,
    tiers: TierPlan | None = None,
) -> list[AreaOutcome]:
    """Analyse every area of ``areas`` and write one folder each plus an index.

    Parameters
    ----------
    inputs : Inputs
        Region-wide layers (WGS-84), read once.
    areas : GeoDataFrame
        One row per study area with a unique ``name``.
    out_dir : str or Path
        Batch folder: ``<out_dir>/<area>/`` per area, ``index.html``, ``summary.csv``.
        New, empty, or a batch folder circles wrote.
    settings : TravelSettings, optional
        Speeds (km/h), the coverage threshold and bands (minutes); the defaults when None.
    population : PopulationSpec, optional
        A ``total`` is not meaningful across areas and is rejected by the CLI. A
        ``raster`` must be readable by every worker at the same path.
    subareas : GeoDataFrame, optional
        Sub-areas summarised inside each area they fall in.
    workers : int
        1 (and no ``scheduler``): areas run one after another in this process. More:
        a local Dask cluster of that many processes (one thread each) runs them; a
        script doing so needs the ``if __name__ == "__main__":`` guard, since the
        worker processes are started fresh (spawned), not forked.
    scheduler : str or distributed.Client, optional
        An existing Dask cluster: its scheduler address (``tcp://host:8786``) or a
        connected client. ``workers`` is then ignored.
    work_dir : str or Path, optional
        Where per-area extracts are written for the workers: a folder every worker can
        read (a shared file system on a real cluster). A private subfolder is made and
        removed afterwards. Default: inside ``out_dir`` for a local cluster; with a
        ``scheduler`` and no ``work_dir`` the extracts travel with the tasks instead.
    force : bool
        Recompute areas even when their inputs and parameters are unchanged.
    offline_map : bool
        Inline map JavaScript/CSS (see :func:`circles.report.write_outputs`).
    recommend_sites : int
        New facility sites to recommend per area (0: none).
    candidates : GeoDataFrame, optional
        Candidate sites shared by all areas.
    provenance : object, optional
        What ``inputs`` were read from, for the fingerprint (e.g. the
        :class:`circles.sources.assemble.SourceSpec`: files by path, size and
        modification time). Default: a hash of the content of ``inputs``.
    progress : callable, optional
        Called with each area's outcome as it finishes.
    tiers : TierPlan, optional
        Facility tiers analysed in every area (``inputs.walkways`` read for their modes).

    Returns
    -------
    list of AreaOutcome
        In the order of ``areas``.
    """
    settings = settings or TravelSettings()
    population = population or PopulationSpec()
    if workers < 1:
        raise InputError(f"`workers` must be at least 1, got {workers}", parameter="workers")
    areas = areas.to_crs(WGS84)
    names = [str(n) for n in areas["name"]]
    targets = check_area_folders(names, out_dir)
    out_dir = prepare_batch_dir(out_dir)
    options = BatchOptions(settings, population, recommend_sites, candidates, offline_map, tiers)
    source = Described(describe(inputs if provenance is None else provenance))
    plans, outcomes = _plan(areas, names, targets, out_dir, subareas, source, options, force)
    margin_m = _tier_margin(inputs, tiers, settings)
    plans = [replace(plan, margin_m=margin_m) for plan in plans]
    for outcome in outcomes.values():
        if progress:
            progress(outcome)

    def finished(outcome: AreaOutcome, index: int) -> None:
        """Record one area's outcome and report it.

        Parameters
        ----------
        outcome : AreaOutcome
            What became of the area.
        index : int
            The area's position in ``areas`` (from 0).
        """
        outcomes[index] = outcome
        if progress:
            progress(outcome)

    if plans and (scheduler is not None or workers > 1):
        from circles.extracts import run_on_cluster

        run_on_cluster(
            inputs, plans, options, finished, scheduler=scheduler, workers=workers, work_dir=work_dir
        )
    else:
        from circles.extracts import area_extract
        from circles.layers_io import source_extent_of

        extent = source_extent_of(inputs)
        for plan in plans:
            extract = area_extract(inputs, plan.area, settings, extent, margin_m=plan.margin_m)
            finished(_run_job(_job(plan, extract, options)), plan.index)
    ordered = [outcomes[i] for i in range(len(names))]
    write_index(ordered, out_dir, settings)
    _write_tiers(ordered, out_dir, tiers)
    return ordered


def _write_tiers(outcomes: list[AreaOutcome], out_dir: Path, tiers: TierPlan | None) -> None:
    """The batch's ``tiers.csv``: every area's tiers, when the batch has tiers."""
    if tiers is None:
        return
    from circles.tier_report import write_batch_tiers

    write_batch_tiers([(o.name, o.summary) for o in outcomes], out_dir)


def _tier_margin(inputs: Inputs, tiers: TierPlan | None, settings: TravelSettings) -> float | None:
    """How far the tiers' modes reach beyond an area, metres (None without tiers)."""
    if tiers is None:
        return None
    from circles.tier_study import tier_margin_m

    return tier_margin_m(inputs.walkways, tiers, settings)


def _plan(
    areas: gpd.GeoDataFrame,
    names: list[str],
    targets: list[tuple[str, OutputTarget]],
    out_dir: Path,
    subareas: gpd.GeoDataFrame | None,
    source: Described,
    options: BatchOptions,
    force: bool,
) -> tuple[list[AreaPlan], dict[int, AreaOutcome]]:
    """The areas to compute, and the outcomes of those whose earlier results are reused."""
    plans: list[AreaPlan] = []
    outcomes: dict[int, AreaOutcome] = {}
    for i, (name, (folder, target)) in enumerate(zip(names, targets, strict=True)):
        boundary = areas.iloc[[i]][["name", "geometry"]]
        area = shapely.union_all(boundary.geometry.values)
        area_subs = None
        if subareas is not None:
            area_subs = subareas[shapely.intersects(area, subareas.to_crs(WGS84).geometry.values)]
        parts = study_parts(
            sources=source,
            settings=options.settings,
            population=options.population,
            name=name,
            boundary=boundary,
            subareas=area_subs,
            recommend_sites=options.recommend_sites,
            candidates=options.candidates,
            offline_map=options.offline_map,
        )
        fp = fingerprint(parts if options.tiers is None else {**parts, "tiers": options.tiers})
        status, reason, summary = _reuse(target, fp, force)
        if summary is not None:
            outcomes[i] = AreaOutcome(name, folder, status, summary=summary, reason=reason)
            continue
        plans.append(AreaPlan(i, name, out_dir / folder, boundary, area_subs, fp.as_dict(), status, reason))
    return plans, outcomes


def _job(plan: AreaPlan, inputs: Inputs, options: BatchOptions) -> BatchJob:
    return BatchJob(
        name=plan.name,
        folder=plan.folder,
        inputs=inputs,
        boundary=plan.boundary,
        subareas=plan.subareas,
        fingerprint=plan.fingerprint,
        status=plan.status,
        reason=plan.reason,
        options=options,
    )
