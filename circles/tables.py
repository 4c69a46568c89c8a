"""Flat tables of results and the one CSV writer every table goes through.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula, so an area named ``=HYPERLINK(...)`` would
run when a planner opens ``summary.csv``. :func:`write_csv` prefixes such text cells
with an apostrophe (OWASP's advice for CSV injection); numbers, including negative
ones, stay numbers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """``"'" + value`` for text a spreadsheet would run as a formula; anything else unchanged.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_cell` applied to its text cells and column names.

    Parameters
    ----------
    frame : DataFrame
        The table to write; it is not changed.
    """
    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column])):
            out[column] = out[column].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path | None = None) -> str | None:
    """Write ``frame`` as UTF-8 CSV (RFC 4180) without its index, text cells neutralised.

    Parameters
    ----------
    frame : DataFrame
    path : str or Path, optional
        Where to write; None returns the text.

    Returns
    -------
    str or None
        The CSV text when ``path`` is None.
    """
    safe = neutralise_frame(frame)
    # RFC 4180 line ends: a cell holding a carriage return is then quoted, not split in two rows.
    if path is None:
        return safe.to_csv(index=False, lineterminator="\r\n")
    safe.to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")
    return None


def summary_rows(summary: dict) -> pd.DataFrame:
    """The summary as a flat table: one row for the area, then one per sub-area.

    Parameters
    ----------
    summary : dict
        ``StudyResult.summary.to_dict()`` (the layout of ``summary.json``).

    Returns
    -------
    DataFrame
        Columns ``level`` (``"area"`` or ``"subarea"``), ``name``, homes, residents and
        whether they are estimated, facilities inside / serving from nearby / off the
        network, coverage figures and shares per band, walking speed and threshold.
    """
    params = summary["parameters"]
    estimated = summary.get("population_method", {}).get("estimated")
    rows = [_flat_row(summary, "area", params, estimated)]
    rows += [_flat_row(sub, "subarea", params, estimated) for sub in summary.get("subareas", [])]
    if "loads" in summary:
        _add_loads(rows, summary["loads"])
    return pd.DataFrame(rows)


def _add_loads(rows: list[dict], loads: dict) -> None:
    """Supply per 10,000 and the share below the access target, for the area and its sub-areas."""
    units = {"area": [loads], "subarea": loads.get("subareas", [])}
    by_name = {(level, u.get("name")): u for level, us in units.items() for u in us}
    for row in rows:
        unit = loads if row["level"] == "area" else by_name.get(("subarea", row["name"]))
        row["supply_per_10k"] = None if unit is None else unit["supply_per_10k"]
        row["share_below_access_target"] = None if unit is None else unit["share_below_access_target"]


def _flat_row(s: dict, level: str, params: dict, estimated: bool | None) -> dict:
    facilities = s.get("facilities", {})
    row = {
        "level": level,
        "name": s["name"],
        "homes": s["homes"],
        "population": s["population"],
        "population_estimated": estimated,
        "facilities_inside": facilities.get("inside"),
        "facilities_nearby_serving": facilities.get("margin_serving"),
        "facilities_off_network": facilities.get("unattached"),
        "residents_per_facility": s.get("residents_per_facility"),
        "covered_population": s["covered_population"],
        "covered_share": s["covered_share"],
        "uncovered_population": s["uncovered_population"],
        "unreachable_homes": s["unreachable_homes"],
    }
    for w in s["within"]:
        row[f"population_within_{w['minutes']:g}_min"] = w["population"]
        row[f"share_within_{w['minutes']:g}_min"] = w["population_share"]
    if "capacity" in s:
        row["capacity_total"] = s["capacity"]["total"]
        row["capacity_per_10k_residents"] = s["capacity"]["per_10k_residents"]
    if level == "area":
        row["partial"] = s.get("partial")
    row["speed_kmh"] = params["speed_kmh"]
    row["threshold_min"] = params["threshold_min"]
    return row


def sites_table(sites, output_crs: str = "wgs84") -> pd.DataFrame:
    """Proposed sites as a table with ``lon_<crs>``/``lat_<crs>`` in the planner's coordinate system.

    Parameters
    ----------
    sites : GeoDataFrame
        Proposed sites (points, any CRS).
    output_crs : str
        ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or ``"bd09"`` (Baidu).

    Returns
    -------
    DataFrame
    """
    import numpy as np

    from circles.sources import coords

    wgs = sites.to_crs("EPSG:4326")
    lon, lat = wgs.geometry.x.to_numpy(), wgs.geometry.y.to_numpy()
    convert = {"gcj02": coords.wgs84_to_gcj02, "bd09": coords.wgs84_to_bd09}.get(output_crs)
    if convert is not None:
        lon, lat = convert(lon, lat)
    table = pd.DataFrame(wgs.drop(columns=wgs.geometry.name))
    table[f"lon_{output_crs}"] = np.round(lon, 6)
    table[f"lat_{output_crs}"] = np.round(lat, 6)
    return table
