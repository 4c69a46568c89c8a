"""The batch folder's own files: one combined ``summary.csv`` and a sortable ``index.html``."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from circles.config import TravelSettings
from circles.errors import OutputError
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
    """Write ``summary.csv`` (all areas) and ``index.html`` (sortable, links every map)."""
    table = combined_table(outcomes)
    for name, text in (("summary.csv", write_csv(table)), ("index.html", _index_html(table, settings))):
        try:
            atomic_write_text(out_dir / name, text)
        except OSError as exc:
            raise OutputError(
                f"cannot write ({exc.strerror or exc})",
                where=str(out_dir / name),
                fix="check free space and permissions",
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
