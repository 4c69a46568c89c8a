"""The batch folder's own files: one combined ``summary.csv`` and ``index.html``.

``index.html`` opens with a map of every area shaded by its share covered (click an area
to open its map), then a totals row and the sortable table. Like the area maps it inlines
Leaflet, so it draws with no internet; the overview has no basemap tiles at all.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from circles.config import TravelSettings
from circles.errors import OutputError
from circles.maps.assets import circles_js, leaflet_css, leaflet_js
from circles.maps.encode import script_json
from circles.maps.overview import area_shapes, overview_spec
from circles.maps.style import HEX_SHARE_CLASSES, NO_RESIDENTS_COLOUR
from circles.tables import summary_rows, write_csv
from circles.tempdirs import atomic_write_text


def combined_table(outcomes: list) -> pd.DataFrame:
    """One row per area: its summary figures, status, why (reused or recomputed) and error.

    Parameters
    ----------
    outcomes : list of circles.batch.AreaOutcome

    Returns
    -------
    DataFrame
    """
    rows = []
    for o in outcomes:
        row = summary_rows(o.summary).iloc[0].to_dict() if o.summary else {"name": o.name}
        row.update({"name": o.name, "folder": o.folder, "status": o.status, "reason": o.reason})
        row["error"] = o.error
        rows.append(row)
    return pd.DataFrame(rows)


def write_index(outcomes: list, out_dir: Path, settings: TravelSettings) -> None:
    """Write ``summary.csv`` (all areas) and ``index.html`` (overview map, totals, sortable table).

    Parameters
    ----------
    outcomes : list of circles.batch.AreaOutcome
    out_dir : Path
        The batch folder (the areas' folders are inside it).
    settings : TravelSettings
    """
    table = combined_table(outcomes)
    done = [o.folder if o.status != "failed" else "" for o in outcomes]
    shapes = area_shapes(Path(out_dir), done)
    for name, text in (
        ("summary.csv", write_csv(table)),
        ("index.html", index_html(table, settings, shapes)),
    ):
        try:
            atomic_write_text(out_dir / name, text)
        except OSError as exc:
            raise OutputError(
                f"cannot write ({exc.strerror or exc})",
                where=str(out_dir / name),
                fix="check free space and permissions",
            ) from None


def _num(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{float(value):,.0f}"


def _col(table: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(table[name], errors="coerce") if name in table else pd.Series(dtype=float)


def _totals(table: pd.DataFrame) -> list[str]:
    ok = table[table["status"] != "failed"] if "status" in table else table
    pop, covered = _col(ok, "population").sum(), _col(ok, "covered_population").sum()
    facilities = _col(ok, "facilities_inside").sum()
    share = f"{100 * covered / pop:.1f}%" if pop > 0 else ""
    per = _num(pop / facilities) if facilities > 0 else ""
    return [
        f"all {len(ok)} areas",
        f"{len(table) - len(ok)} failed" if len(ok) < len(table) else "",
        _num(_col(ok, "homes").sum()),
        _num(pop),
        _num(facilities),
        share,
        _num(_col(ok, "uncovered_population").sum()),
        per,
    ]


def _row(r: pd.Series) -> list[str]:
    link = (
        f'<a href="{html.escape(str(r["folder"]))}/map.html">{html.escape(str(r["name"]))}</a>'
        if r["status"] != "failed"
        else html.escape(str(r["name"]))
    )
    share = r.get("covered_share")
    status = str(r["status"]) + (f": {r['error']}" if r.get("error") else "")
    if str(r.get("partial")).lower() == "true":
        status += " (PARTIAL)"
    return [
        link,
        html.escape(status),
        _num(r.get("homes")),
        _num(r.get("population")),
        _num(r.get("facilities_inside")),
        "" if share is None or pd.isna(share) else f"{100 * float(share):.1f}%",
        _num(r.get("uncovered_population")),
        _num(r.get("residents_per_facility")),
    ]


def _legend(minutes: str) -> str:
    rows = "".join(
        f'<span><i style="background:{c}"></i>{html.escape(label)}</span>'
        for _l, label, c in HEX_SHARE_CLASSES
    )
    rows += f'<span><i style="background:{NO_RESIDENTS_COLOUR}"></i>no residents</span>'
    return f'<div class="legend"><b>residents within {minutes} min:</b> {rows}</div>'


def index_html(table: pd.DataFrame, settings: TravelSettings, shapes: list) -> str:
    """The page: overview map (areas by share covered), totals and one sortable row per area.

    Parameters
    ----------
    table : DataFrame
        From :func:`combined_table`.
    settings : TravelSettings
    shapes : list of shapely geometry or None
        Each area's outline, in the table's order.

    Returns
    -------
    str
    """
    minutes = f"{settings.threshold_min:g}"
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "area",
            "status",
            "homes",
            "residents",
            "facilities",
            f"covered within {minutes} min",
            "uncovered residents",
            "residents per facility",
        )
    )
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in _row(r)) + "</tr>" for _, r in table.iterrows())
    totals = "<tr class='totals'>" + "".join(f"<td>{c}</td>" for c in _totals(table)) + "</tr>"
    spec = overview_spec(table, shapes, minutes)
    done = table[table["status"] != "failed"] if "status" in table else table
    estimated = int((done.get("population_estimated", pd.Series(dtype=object)).astype(str) == "True").sum())
    note = f" Residents are estimated in {estimated} of {len(done)} areas." if estimated else ""
    overview = "" if spec is None else f'<div id="overview"></div>{_legend(minutes)}'
    script = "" if spec is None else OVERVIEW_JS.replace("SPEC", script_json(spec))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>circles: {minutes}-minute walk coverage</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{leaflet_css()}</style>
<script>{leaflet_js()}</script>
<script>{circles_js()}</script>
<style>{PAGE_CSS}</style></head><body>
<h1>{minutes}-minute walk coverage by area</h1>
<p>Walking speed {settings.speed_kmh:g} km/h. Click an area on the map to open its map;
click a column to sort. Map data &copy; OpenStreetMap contributors, ODbL.
<a href="summary.csv">summary.csv</a>{note}</p>
{overview}
<table id="areas"><thead><tr>{head}</tr>{totals}</thead>
<tbody>{body}</tbody></table>
{script}
<script>{SORT_JS}</script></body></html>
"""


PAGE_CSS = """body{font:14px sans-serif;margin:1.5em}table{border-collapse:collapse;margin-top:1em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
th{cursor:pointer;background:#f3f3f3;position:sticky;top:0}
tr.totals td{font-weight:bold;background:#fafafa}
#overview{height:45vh;min-height:300px;border:1px solid #bbb;background:#f4f4f0}
.legend{margin:4px 0}.legend span{margin-right:10px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle;
 border:1px solid #666}"""

OVERVIEW_JS = """<script>
(function () {
  var map = L.map("overview", {preferCanvas: true, zoomSnap: 0.25, attributionControl: false});
  var layer = circles.layer(map, SPEC, {names: [], notes: [], bands: []}).addTo(map);
  map.fitBounds(layer.getBounds(), {padding: [10, 10]});
  window.circlesOverview = map;
  circles.ready();
})();
</script>"""

SORT_JS = """
document.querySelectorAll('#areas th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var tbody = document.querySelector('#areas tbody');
    var rows = Array.from(tbody.rows), asc = th.dataset.asc !== 'true';
    var key = function (r) { var t = r.cells[col].innerText.replace(/[,%]/g, '');
      var n = parseFloat(t); return isNaN(n) ? t : n; };
    rows.sort(function (a, b) { var x = key(a), y = key(b);
      return (x > y ? 1 : x < y ? -1 : 0) * (asc ? 1 : -1); });
    th.dataset.asc = asc; rows.forEach(function (r) { tbody.appendChild(r); });
  });
});"""
