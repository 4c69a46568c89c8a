"""What if this clinic opens, or that one closes? The study run again with a changed set.

The scenario's facilities are the baseline's with some removed (by id or name) and some
added (a planner's file, any CRS). The analysis runs on the same network, homes and
residents; the result describes the scenario, and :class:`WhatIfSummary` compares it
with the baseline of the same run: residents coming within or falling out of each band,
per area and sub-area, clinics whose catchment changes, and the homes that change.

Facility ids stay those of the baseline (a removed clinic does not renumber the others),
and a re-added clinic (the same ``facility_id``) takes its old place in the list, so
removing a clinic and adding it back gives the baseline's tables byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.analysis import facility_ids, measure, points_xy
from circles.config import TravelSettings
from circles.crs import WGS84
from circles.errors import InputError
from circles.what_if_result import BandChange, FacilityChange, WhatIfOptions, WhatIfSummary

if TYPE_CHECKING:  # pragma: no cover
    from circles.analysis import Measured
    from circles.engine import SearchPlan
    from circles.residents import HomePopulation
    from circles.result import StudyResult

__all__ = ["WhatIfOptions", "compare", "run_scenario", "scenario_facilities", "what_if"]

#: Columns the analysis writes into the facilities and homes tables (dropped before a re-run).
FACILITY_OUTPUTS = (
    "inside_area", "attached", "catchment_homes", "catchment_population", "access_leg_m",
    "capacity_per_10k_catchment", "population_within_threshold", "catchment_to_target",
    "over_resident_target", "supply_per_10k", "below_supply_target", "overloaded",
)  # fmt: skip
HOME_OUTPUTS = (
    "walk_time_min", "nearest_facility", "covered", "band", "population", "population_method",
    "access_leg_m", "unreachable_reason", "access_per_10k", "no_candidate_reaches",
)  # fmt: skip


def _removed_rows(ids: np.ndarray, names: np.ndarray, tokens: Sequence[str]) -> np.ndarray:
    """Row positions of the facilities named by ``tokens`` (an id, else a unique name)."""
    rows = []
    for token in tokens:
        hit = np.flatnonzero(ids == token)
        if hit.size == 0:
            hit = np.flatnonzero(names == token)
            if hit.size > 1:
                raise InputError(
                    f"`remove_facilities` names {token!r}, and {hit.size} facilities have that name",
                    parameter="remove_facilities",
                    fix="give their facility_id values (in the facilities table) instead",
                )
        if hit.size == 0:
            raise InputError(
                f"`remove_facilities` names {token!r}, but no facility has that id or name",
                parameter="remove_facilities",
                fix="use a facility_id or name from the facilities table",
            )
        rows.append(int(hit[0]))
    return np.unique(np.array(rows, dtype=np.int64))


def scenario_facilities(
    facilities: gpd.GeoDataFrame, options: WhatIfOptions
) -> tuple[gpd.GeoDataFrame, tuple[str, ...], tuple[str, ...]]:
    """The changed facility set (WGS-84, with ``facility_id``), the ids added and the ids removed.

    Parameters
    ----------
    facilities : GeoDataFrame
        The baseline facilities (any CRS).
    options : WhatIfOptions

    Returns
    -------
    (GeoDataFrame, tuple of str, tuple of str)
    """
    base = facilities.to_crs(WGS84).reset_index(drop=True)
    ids = facility_ids(base).astype(str)
    base = base.drop(columns=[c for c in ("facility_id",) if c in base]).assign(facility_id=ids)
    names = base["name"].astype(str).to_numpy() if "name" in base else np.full(len(base), None)
    gone = _removed_rows(ids, names, options.remove_facilities)
    order = np.arange(len(base), dtype=float)
    keep = np.setdiff1d(np.arange(len(base)), gone)
    parts, keys = [base.iloc[keep]], [order[keep]]
    added: tuple[str, ...] = ()
    if options.add_facilities is not None and len(options.add_facilities):
        extra = _added(options.add_facilities, base.columns, len(base))
        new_ids = extra["facility_id"].to_numpy(str)
        clash = sorted(set(new_ids) & set(ids[keep]))
        if clash or len(set(new_ids)) < len(new_ids):
            raise InputError(
                f"added facilities repeat the facility_id {(clash or list(new_ids))[0]!r}",
                parameter="add_facilities",
                fix="give each added facility a new facility_id, or remove the old one first",
            )
        back = {i: k for k, i in enumerate(ids) if k in set(gone.tolist())}
        keys.append(np.array([back.get(i, len(base) + j) for j, i in enumerate(new_ids)], dtype=float))
        parts.append(extra)
        added = tuple(new_ids)
    out = pd.concat(parts, ignore_index=True)
    out = out.iloc[np.argsort(np.concatenate(keys), kind="stable")].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84), added, tuple(ids[gone])


def _added(frame: gpd.GeoDataFrame, columns, n_base: int) -> gpd.GeoDataFrame:
    """Added facilities with the baseline's columns (others dropped) and their ids."""
    if frame.crs is None:
        raise InputError("the added facilities have no CRS", parameter="add_facilities")
    wgs = frame.to_crs(WGS84).reset_index(drop=True)
    geometry = gpd.GeoSeries(shapely.points(points_xy(wgs, WGS84)), crs=WGS84)
    ids = (
        wgs["facility_id"].astype(str).to_numpy()
        if "facility_id" in wgs
        else np.array([f"added-{k + 1}" for k in range(len(wgs))], dtype=object)
    )
    keep = [c for c in columns if c in wgs and c not in ("geometry", "facility_id")]
    out = gpd.GeoDataFrame(wgs[keep].copy(), geometry=geometry.values, crs=WGS84)
    out["facility_id"] = ids
    return out[[c for c in columns if c in out]]


def run_scenario(
    measured: Measured,
    facilities: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    population: HomePopulation,
    settings: TravelSettings,
    options: WhatIfOptions,
    *,
    area=None,
    subareas: gpd.GeoDataFrame | None = None,
    plan: SearchPlan | None = None,
) -> tuple[Measured, WhatIfSummary, gpd.GeoDataFrame]:
    """Measure the scenario on the baseline's network and compare it with the baseline.

    Parameters
    ----------
    measured : Measured
        The baseline.
    facilities, homes : GeoDataFrame
        The inputs the baseline was measured from.
    population : HomePopulation
    settings : TravelSettings
    options : WhatIfOptions
    area : shapely geometry, optional
        The study area (WGS-84); facilities outside it count as nearby.
    subareas : GeoDataFrame, optional
    plan : SearchPlan, optional

    Returns
    -------
    (Measured, WhatIfSummary, GeoDataFrame)
        The scenario, the comparison, and the homes that change.
    """
    changed, added, removed = scenario_facilities(facilities, options)
    if len(changed) == 0:
        raise InputError("the scenario removes every facility", parameter="remove_facilities")
    inside = None if area is None else shapely.intersects(area, shapely.points(points_xy(changed, WGS84)))
    scenario = measure(
        measured.context.network, changed, homes, population, settings, inside_area=inside, plan=plan
    )
    summary, homes_changed = compare(measured, scenario, settings, subareas=subareas)
    return scenario, _with_ids(summary, added, removed), homes_changed


def _with_ids(summary: WhatIfSummary, added, removed) -> WhatIfSummary:
    from dataclasses import replace

    return replace(summary, added=tuple(str(a) for a in added), removed=tuple(str(r) for r in removed))


def _band_changes(t0: np.ndarray, t1: np.ndarray, pop: np.ndarray, bands, sel) -> tuple[BandChange, ...]:
    out = []
    for b in bands:
        before, after = (t0 <= b) & sel, (t1 <= b) & sel
        gain, loss = after & ~before, before & ~after
        out.append(
            BandChange(
                float(b), int(gain.sum()), float(pop[gain].sum()), int(loss.sum()), float(pop[loss].sum())
            )
        )
    return tuple(out)


def compare(
    base: Measured, scenario: Measured, settings: TravelSettings, *, subareas: gpd.GeoDataFrame | None = None
) -> tuple[WhatIfSummary, gpd.GeoDataFrame]:
    """The scenario against the baseline: per band, per sub-area, per clinic and per home.

    Parameters
    ----------
    base : Measured
        The baseline analysis.
    scenario : Measured
        The scenario's analysis, on the same homes in the same order.
    settings : TravelSettings
        Its threshold and bands (minutes) are the ones compared.
    subareas : GeoDataFrame, optional
        Sub-areas to compare in (a ``name`` column); none when None.

    Returns
    -------
    (WhatIfSummary, GeoDataFrame)
        The figures (``added``/``removed`` empty: :func:`run_scenario` fills them in) and the
        homes whose walking time or nearest facility changes (``change``: ``gains coverage``,
        ``loses coverage``, ``faster``, ``slower`` or ``other clinic``).
    """
    h0, h1 = base.homes, scenario.homes
    t0, t1 = h0["walk_time_min"].to_numpy(float), h1["walk_time_min"].to_numpy(float)
    n0, n1 = h0["nearest_facility"].to_numpy(object), h1["nearest_facility"].to_numpy(object)
    pop = h0["population"].to_numpy(float)
    same_t = (t0 == t1) | (np.isnan(t0) & np.isnan(t1))
    moved = ~same_t | (n0 != n1)
    bands = tuple(settings.bands_min or (settings.threshold_min,))
    everyone = np.ones(len(h0), dtype=bool)
    per_sub: tuple = ()
    if subareas is not None:
        from circles.summary import subarea_owner

        owner = subarea_owner(h0, subareas)
        names = subareas["name"].astype(str).tolist()
        per_sub = tuple((n, _band_changes(t0, t1, pop, bands, owner == i)) for i, n in enumerate(names))
    limit = settings.threshold_min
    summary = WhatIfSummary(
        added=(),
        removed=(),
        covered_population_before=float(pop[t0 <= limit].sum()),
        covered_population_after=float(pop[t1 <= limit].sum()),
        homes_changed=int(moved.sum()),
        bands=_band_changes(t0, t1, pop, bands, everyone),
        subareas=per_sub,
        facilities=_facility_changes(base.facilities, scenario.facilities),
    )
    return summary, _changed_homes(h0, t0, t1, n0, n1, moved, limit)


def _facility_changes(f0: gpd.GeoDataFrame, f1: gpd.GeoDataFrame) -> tuple[FacilityChange, ...]:
    """Clinics whose catchment residents differ between the two sets, in baseline then added order."""
    c0 = dict(zip(f0["facility_id"].astype(str), f0["catchment_population"].astype(float), strict=True))
    c1 = dict(zip(f1["facility_id"].astype(str), f1["catchment_population"].astype(float), strict=True))
    names = {**_names(f0), **_names(f1)}
    out = []
    for fid in [*c0, *(i for i in c1 if i not in c0)]:
        before, after = c0.get(fid), c1.get(fid)
        if before != after:
            out.append(FacilityChange(fid, names.get(fid), before, after))
    return tuple(out)


def _names(frame: gpd.GeoDataFrame) -> dict[str, str | None]:
    if "name" not in frame:
        return {}
    return {
        str(i): (None if pd.isna(n) else str(n))
        for i, n in zip(frame["facility_id"], frame["name"], strict=True)
    }


def _changed_homes(h0, t0, t1, n0, n1, moved, limit: float) -> gpd.GeoDataFrame:
    """The homes that change, with both times and nearest facilities."""
    c0, c1 = t0 <= limit, t1 <= limit
    change = np.select(
        [c1 & ~c0, c0 & ~c1, t1 < t0, t1 > t0],
        ["gains coverage", "loses coverage", "faster", "slower"],
        "other clinic",
    )
    own = [c for c in h0.columns if c not in HOME_OUTPUTS and c != h0.geometry.name]
    out = h0.loc[moved, own].copy()
    out["population"] = h0["population"].to_numpy(float)[moved]
    out["walk_time_min_before"], out["walk_time_min_after"] = t0[moved], t1[moved]
    out["nearest_before"], out["nearest_after"] = n0[moved], n1[moved]
    out["change"] = change[moved]
    return gpd.GeoDataFrame(out, geometry=h0.geometry[moved].values, crs=h0.crs).reset_index(drop=True)


def what_if(
    result: StudyResult,
    *,
    add_facilities: gpd.GeoDataFrame | None = None,
    remove_facilities: Sequence[str] = (),
    subareas: gpd.GeoDataFrame | None = None,
) -> StudyResult:
    """A finished study run again with facilities added or removed, compared with it.

    Parameters
    ----------
    result : StudyResult
        The baseline, with its network context.
    add_facilities : GeoDataFrame, optional
        Points, any CRS; ``facility_id`` and the baseline's other columns are kept.
    remove_facilities : sequence of str
        Facility ids or names.
    subareas : GeoDataFrame, optional
        Sub-areas (``name`` column) to compare in.

    Returns
    -------
    StudyResult
        The scenario, with ``summary.what_if`` and ``what_if_homes``. Its summary's
        coverage is the scenario's; loads and sites are not recomputed.
    """
    from circles.analysis import Measured
    from circles.residents import HomePopulation
    from circles.summary import build_summary

    if result.context is None:
        raise InputError("this result carries no network context; run the analysis again for a what-if")
    options = WhatIfOptions(add_facilities, tuple(str(x) for x in remove_facilities))
    base = Measured(
        result.context, result.homes, result.facilities, result.service_areas, result.catchment_areas
    )
    homes = result.homes.drop(columns=[c for c in HOME_OUTPUTS if c in result.homes])
    facilities = result.facilities.drop(columns=[c for c in FACILITY_OUTPUTS if c in result.facilities])
    pop = result.context.population or HomePopulation(
        result.homes["population"].to_numpy(float),
        result.homes["population_method"].to_numpy(object),
        result.summary.population,
    )
    area = None
    if result.boundary is not None and len(result.boundary):
        area = shapely.union_all(result.boundary.to_crs(WGS84).geometry.values)
    scenario, summary, changed = run_scenario(
        base, facilities, homes, pop, result.settings, options, area=area, subareas=subareas
    )
    figures = build_summary(result.name, scenario, pop, result.settings).with_(what_if=summary)
    return scenario.result(result.name, result.settings, figures, boundary=result.boundary).with_(
        what_if_homes=changed
    )
