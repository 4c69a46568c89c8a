"""Many study areas in one run: one parsed source, one folder per area, an index page.

Areas already complete are skipped unless forced; a failing area is recorded and
does not stop the others. Areas run serially or on a process pool.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from circles.config import TravelSettings
from circles.crs import WGS84
from circles.errors import CirclesError, OutputError
from circles.pipeline import run_study
from circles.report import safe_name, summary_rows, write_outputs
from circles.sources.assemble import Inputs
from circles.study_area import PopulationSpec, clip_inputs


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
        ``"done"``, ``"skipped"`` (already complete) or ``"failed"``.
    error : str
        The one-line error for failed areas.
    summary : dict
        The area's summary (from summary.json for skipped areas).
    """

    name: str
    folder: str
    status: str
    error: str = ""
    summary: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BatchJob:
    """One area's work, small enough to send to a worker process."""

    name: str
    folder: Path
    inputs: Inputs
    boundary: gpd.GeoDataFrame
    subareas: gpd.GeoDataFrame | None
    settings: TravelSettings
    population: PopulationSpec
    offline_map: bool
    recommend_sites: int = 0
    candidates: gpd.GeoDataFrame | None = None


def _run_job(job: BatchJob) -> AreaOutcome:
    try:
        result = run_study(
            job.inputs,
            name=job.name,
            boundary=job.boundary,
            subareas=job.subareas,
            settings=job.settings,
            population=job.population,
            recommend_sites=job.recommend_sites,
            candidates=job.candidates,
        )
        write_outputs(result, job.folder, offline_map=job.offline_map)
        return AreaOutcome(job.name, job.folder.name, "done", summary=result.summary.to_dict())
    except CirclesError as exc:
        return AreaOutcome(job.name, job.folder.name, "failed", error=str(exc))
    except Exception as exc:  # one broken area must not stop the batch
        return AreaOutcome(job.name, job.folder.name, "failed", error=f"unexpected error: {exc!r}")


def _complete(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def folder_names(names: list[str]) -> list[str]:
    """Unique, filesystem-safe folder names for area names (``_2``, ``_3`` on clashes)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        base = safe_name(name)
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def run_batch(
    inputs: Inputs,
    areas: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    settings: TravelSettings | None = None,
    population: PopulationSpec | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    workers: int = 1,
    force: bool = False,
    offline_map: bool = False,
    recommend_sites: int = 0,
    candidates: gpd.GeoDataFrame | None = None,
    progress: Callable[[AreaOutcome], None] | None = None,
) -> list[AreaOutcome]:
    """Analyse every area of ``areas`` and write one folder each plus an index.

    Parameters
    ----------
    inputs : Inputs
        Region-wide layers (WGS-84), read once.
    areas : GeoDataFrame
        One row per study area with a ``name`` column.
    out_dir : str or Path
        Batch folder: ``<out_dir>/<area>/`` per area, ``index.html``, ``summary.csv``.
    settings : TravelSettings, optional
    population : PopulationSpec, optional
        A ``total`` is not meaningful across areas and is rejected by the CLI.
    subareas : GeoDataFrame, optional
        Sub-areas summarised inside each area they fall in.
    workers : int
        Processes to use; 1 runs serially in this process.
    force : bool
        Recompute areas whose folder is already complete.
    offline_map : bool
        Inline map JavaScript/CSS (see :func:`circles.report.write_outputs`).
    recommend_sites : int
        New facility sites to recommend per area (0: none).
    candidates : GeoDataFrame, optional
        Candidate sites shared by all areas.
    progress : callable, optional
        Called with each area's outcome as it finishes.

    Returns
    -------
    list of AreaOutcome
        In the order of ``areas``.
    """
    settings = settings or TravelSettings()
    population = population or PopulationSpec()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{out_dir}: cannot create the batch folder ({exc.strerror}); choose a writable --out"
        ) from None
    areas = areas.to_crs(WGS84)
    names = [str(n) for n in areas["name"]]
    folders = folder_names(names)
    outcomes: dict[int, AreaOutcome] = {}
    jobs: list[tuple[int, BatchJob]] = []
    for i, (name, folder) in enumerate(zip(names, folders, strict=True)):
        done = None if force else _complete(out_dir / folder)
        if done is not None:
            outcomes[i] = AreaOutcome(name, folder, "skipped", summary=done)
            if progress:
                progress(outcomes[i])
            continue
        boundary = areas.iloc[[i]][["name", "geometry"]]
        area = shapely.union_all(boundary.geometry.values)
        clipped, _ = clip_inputs(inputs, area, settings)
        area_subs = None
        if subareas is not None:
            area_subs = subareas[shapely.intersects(area, subareas.to_crs(WGS84).geometry.values)]
        jobs.append(
            (
                i,
                BatchJob(
                    name,
                    out_dir / folder,
                    clipped,
                    boundary,
                    area_subs,
                    settings,
                    population,
                    offline_map,
                    recommend_sites=recommend_sites,
                    candidates=candidates,
                ),
            )
        )
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for (i, _), outcome in zip(jobs, pool.map(_run_job, [j for _, j in jobs]), strict=True):
                outcomes[i] = outcome
                if progress:
                    progress(outcome)
    else:
        for i, job in jobs:
            outcomes[i] = _run_job(job)
            if progress:
                progress(outcomes[i])
    ordered = [outcomes[i] for i in range(len(names))]
    write_index(ordered, out_dir, settings)
    return ordered


def combined_table(outcomes: list[AreaOutcome]) -> pd.DataFrame:
    """One row per area: its summary figures, status and error."""
    rows = []
    for o in outcomes:
        row = summary_rows(o.summary).iloc[0].to_dict() if o.summary else {"name": o.name}
        row.update({"name": o.name, "folder": o.folder, "status": o.status, "error": o.error})
        rows.append(row)
    return pd.DataFrame(rows)


def write_index(outcomes: list[AreaOutcome], out_dir: Path, settings: TravelSettings) -> None:
    """Write ``summary.csv`` (all areas) and ``index.html`` (sortable, links every map)."""
    table = combined_table(outcomes)
    _atomic_write(out_dir / "summary.csv", table.to_csv(index=False))
    _atomic_write(out_dir / "index.html", _index_html(table, settings))


def _atomic_write(path: Path, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot write ({exc.strerror}); check free space and permissions"
        ) from None


def _index_html(table: pd.DataFrame, settings: TravelSettings) -> str:
    minutes = f"{settings.threshold_min:g}"
    head = (
        "<tr><th>area</th><th>status</th><th>homes</th><th>residents</th><th>facilities</th>"
        f"<th>covered within {minutes} min</th><th>uncovered residents</th>"
        "<th>residents per facility</th></tr>"
    )
    body = []
    for _, r in table.iterrows():
        link = (
            f'<a href="{html.escape(r["folder"])}/map.html">{html.escape(str(r["name"]))}</a>'
            if r["status"] != "failed"
            else html.escape(str(r["name"]))
        )
        share = r.get("covered_share")
        cells = [
            link,
            html.escape(r["status"] + (f": {r['error']}" if r["error"] else "")),
            _num(r.get("homes")),
            _num(r.get("population")),
            _num(r.get("facilities")),
            "" if share is None or pd.isna(share) else f"{100 * float(share):.1f}%",
            _num(r.get("uncovered_population")),
            _num(r.get("residents_per_facility")),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>circles: {minutes}-minute walk coverage</title>
<style>body{{font:14px sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}
th{{cursor:pointer;background:#f3f3f3}}</style></head><body>
<h1>{minutes}-minute walk coverage by area</h1>
<p>Walking speed {settings.speed_kmh:g} km/h. Click a column to sort.
Map data &copy; OpenStreetMap contributors, ODbL. <a href="summary.csv">summary.csv</a></p>
<table id="areas"><thead>{head}</thead>
<tbody>{"".join(body)}</tbody></table>
<script>
document.querySelectorAll('#areas th').forEach(function (th, col) {{
  th.addEventListener('click', function () {{
    var tbody = document.querySelector('#areas tbody');
    var rows = Array.from(tbody.rows), asc = th.dataset.asc !== 'true';
    var key = function (r) {{ var t = r.cells[col].innerText.replace(/[,%]/g, '');
      var n = parseFloat(t); return isNaN(n) ? t : n; }};
    rows.sort(function (a, b) {{ var x = key(a), y = key(b);
      return (x > y ? 1 : x < y ? -1 : 0) * (asc ? 1 : -1); }});
    th.dataset.asc = asc; rows.forEach(function (r) {{ tbody.appendChild(r); }});
  }});
}});
</script></body></html>
"""


def _num(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):,.0f}"
