"""Writing and printing a study's facility tiers: ``tiers.csv``, ``tier_units.csv``, area layers, lines.

- ``tiers.csv``: one row per tier and one for all tiers at once (mode, threshold,
  facilities, homes and residents covered, residents per facility against the target);
- ``tier_units.csv``: with sub-areas, one row per (unit, tier);
- ``service_areas.gpkg``: a layer ``tier_<name>`` per tier (the area within its threshold).

Every CSV goes through :func:`circles.tables.write_csv` (formula-like cells neutralised).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from circles.modes import MODE_PHRASES
from circles.result import StudyResult
from circles.tables import write_csv
from circles.tier_result import TiersSummary

ALL_TIERS = "(all tiers)"


def tier_rows(tiers: TiersSummary, *, estimated: bool) -> pd.DataFrame:
    """The per-tier summary table (the rows of ``tiers.csv``).

    Parameters
    ----------
    tiers : TiersSummary
    estimated : bool
        Whether the residents are estimated (said in a column).

    Returns
    -------
    DataFrame
    """
    rows = []
    for t in tiers.tiers:
        d = t.to_dict()
        rows.append(
            {
                "tier": t.name,
                "label": t.label,
                "mode": t.mode,
                "threshold_min": d["threshold_min"],
                "facilities_classified": t.classified,
                "facilities_inside": t.facilities.inside,
                "facilities_nearby_serving": t.facilities.margin_serving,
                "facilities_off_network": t.facilities.unattached,
                "homes": d["homes"],
                "population": d["population"],
                "population_estimated": estimated,
                "covered_homes": d["covered_homes"],
                "covered_population": d["covered_population"],
                "covered_share": d["covered_share"],
                "uncovered_population": d["uncovered_population"],
                "unreachable_homes": d["unreachable_homes"],
                "residents_per_facility": t.residents_per_facility,
                "target_residents_per_facility": t.target_residents_per_facility,
                "meets_target": t.meets_target,
                "mode_description": t.mode_description,
            }
        )
    every = tiers.all_tiers
    rows.append(
        {
            "tier": ALL_TIERS,
            "label": "within every tier's threshold at once",
            "homes": rows[0]["homes"] if rows else None,
            "population": rows[0]["population"] if rows else None,
            "population_estimated": estimated,
            "covered_homes": every.homes,
            "covered_population": every.population,
            "covered_share": every.population_share,
        }
    )
    table = pd.DataFrame(rows)
    for column in _COUNTS:
        table[column] = table[column].astype("Int64")
    return table


_COUNTS = (
    "facilities_classified",
    "facilities_inside",
    "facilities_nearby_serving",
    "facilities_off_network",
    "homes",
    "covered_homes",
    "unreachable_homes",
)


def unit_rows(tiers: TiersSummary) -> pd.DataFrame:
    """One row per (unit, tier): the rows of ``tier_units.csv``.

    Parameters
    ----------
    tiers : TiersSummary

    Returns
    -------
    DataFrame
    """
    return pd.DataFrame([u.to_dict() for u in tiers.units])


def write_tier_files(result: StudyResult, folder: Path) -> None:
    """Write the tiers' tables and area layers into ``folder`` (nothing without tiers).

    Parameters
    ----------
    result : StudyResult
    folder : Path
        The (temporary) output folder.
    """
    tiers = result.summary.tiers
    if tiers is None:
        return
    write_csv(tier_rows(tiers, estimated=result.summary.population.estimated), folder / "tiers.csv")
    if tiers.units:
        write_csv(unit_rows(tiers), folder / "tier_units.csv")
    areas = result.tier_areas
    if areas is None:
        return
    for name in dict.fromkeys(areas["tier"]):
        layer = areas[areas["tier"] == name].reset_index(drop=True)
        layer.to_file(folder / "service_areas.gpkg", driver="GPKG", layer=f"tier_{name}")


def tier_lines(result: StudyResult) -> list[str]:
    """What the command line prints for the tiers: one line per tier, then all tiers at once.

    Parameters
    ----------
    result : StudyResult

    Returns
    -------
    list of str
    """
    tiers = result.summary.tiers
    if tiers is None:
        return []
    who = "estimated residents" if result.summary.population.estimated else "residents"
    lines = []
    for t in tiers.tiers:
        c = t.coverage
        share = "n/a" if c.covered_share is None else f"{100 * c.covered_share:.1f}%"
        label = "" if t.label == t.name else f" ({t.label})"
        n = t.facilities.inside
        per = (
            ""
            if t.residents_per_facility is None
            else f", {t.residents_per_facility:,.0f} {who} per facility"
        )
        target = t.target_residents_per_facility
        verdict = (
            "" if target is None else f" (target {target:,.0f}: {'met' if t.meets_target else 'not met'})"
        )
        within = f"within {c.threshold_min:g} min {MODE_PHRASES[t.mode]}"
        lines.append(
            f"  tier {t.name}{label}: {share} of {who} {within}; "
            f"{n} {'facility' if n == 1 else 'facilities'} inside the area{per}{verdict}"
        )
    every = tiers.all_tiers
    share = "n/a" if every.population_share is None else f"{100 * every.population_share:.1f}%"
    if len(tiers.tiers) > 1:
        lines.append(f"  all tiers at once: {share} of {who} ({every.homes:,} homes)")
    missing = {k: v for k, v in tiers.units_without().items() if v} if tiers.units else {}
    for name, units in missing.items():
        listed = ", ".join(units[:5]) + (f" and {len(units) - 5} more" if len(units) > 5 else "")
        lines.append(f"  units without a {name} facility: {listed}")
    lines.append(f"  access legs: {tiers.access_legs}")
    return lines


def batch_tier_rows(summaries: list[tuple[str, dict]]) -> pd.DataFrame:
    """One row per (area, tier) of a batch, from each area's ``summary.json`` layout.

    Parameters
    ----------
    summaries : list of (str, dict)
        Area name and its summary dict; areas without a ``tiers`` section are skipped.

    Returns
    -------
    DataFrame
        ``area``, ``tier``, ``mode``, ``threshold_min``, facilities inside, homes,
        residents, covered residents and share, residents per facility, target; the
        ``(all tiers)`` row of each area last.
    """
    rows = []
    for area, summary in summaries:
        tiers = (summary or {}).get("tiers")
        if not tiers:
            continue
        for t in tiers["tiers"]:
            rows.append(
                {
                    "area": area,
                    "tier": t["name"],
                    "mode": t["mode"],
                    "threshold_min": t["threshold_min"],
                    "facilities_inside": t["facilities"]["inside"],
                    "homes": t["homes"],
                    "population": t["population"],
                    "covered_population": t["covered_population"],
                    "covered_share": t["covered_share"],
                    "residents_per_facility": t["residents_per_facility"],
                    "target_residents_per_facility": t["target_residents_per_facility"],
                }
            )
        every = tiers["all_tiers"]
        rows.append(
            {
                "area": area,
                "tier": ALL_TIERS,
                "covered_population": every["population"],
                "covered_share": every["population_share"],
            }
        )
    return pd.DataFrame(rows)


def write_batch_tiers(summaries: list[tuple[str, dict]], folder: Path) -> None:
    """Write a batch's ``tiers.csv`` (every area's tiers) into ``folder``, when any area has tiers.

    Parameters
    ----------
    summaries : list of (str, dict)
        Area name and its summary dict.
    folder : Path
        The batch folder.
    """
    from circles.errors import OutputError
    from circles.tempdirs import atomic_write_text

    table = batch_tier_rows(summaries)
    if not len(table):
        return
    path = Path(folder) / "tiers.csv"
    try:
        atomic_write_text(path, write_csv(table))
    except OSError as exc:
        raise OutputError(
            f"cannot write ({exc.strerror or exc})", where=str(path), fix="check free space and permissions"
        ) from None
