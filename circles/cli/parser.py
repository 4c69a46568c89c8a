"""The ``circles`` command's argument parser: subcommands, options, and one-line usage errors."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import NoReturn

from circles._version import __version__

EXAMPLES = """examples:
  circles demo
      central Helsinki from the OpenStreetMap extract shipped with circles; writes out/demo/map.html

  circles run --pbf guangdong-latest.osm.pbf \\
      --boundary shenzhen_districts.geojson --name-field qh --district 罗湖 \\
      --facilities chc_list.xlsx --facility-crs gcj02 --name-contains 社区健康服务中心 \\
      --subareas luohu_jiedao.geojson --subarea-name-field name --tiles amap --out out/luohu
      a Shenzhen district with the planner's own clinic list copied from Amap (GCJ-02), on Amap's basemap

  circles run --pbf county.osm.pbf --bbox 121.50,39.10,121.60,39.18 \\
      --facilities osm:primary-care --speed-kmh elderly --tiles none --out out/county
      fully offline: a local extract, clinics tagged in OSM, elderly pace, no basemap tiles

  circles run --pbf county.osm.pbf --admin-area 某某县 --facilities clinics.xlsx --tier-column 级别 \\
      --tier village:15:walk --tier township:15:ebike --tier county:30:drive \\
      --subareas townships.geojson --out out/county
      a county's three tiers, each with its own mode and threshold, per township

  circles batch --pbf city.osm.pbf --boundary districts.geojson --name-field name \\
      --workers 2 --out out/city
      every district of a city; re-running skips finished districts (use --force to redo)

  circles batch --pbf china.osm.pbf --boundary counties.gpkg --name-field code \\
      --scheduler tcp://10.0.0.5:8786 --work-dir /shared/circles-work --out out/counties
      every county on a Dask cluster (see README: Many areas, many machines)
"""


def _finite(text: str) -> float:
    """A float that is a real number (``nan``, ``inf`` and words are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _bands(text: str) -> tuple[float, ...]:
    try:
        return tuple(_finite(x) for x in text.split(",") if x.strip())
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"bands {text!r} must be minutes like 5,10,15") from None


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(_finite(x) for x in text.split(","))
    except argparse.ArgumentTypeError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(
            f"bbox {text!r} must be four numbers W,S,E,N (degrees), e.g. -121.6,39.12,-121.54,39.16"
        )
    return values  # type: ignore[return-value]


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line plus a pointer to ``--help``."""

    def error(self, message: str) -> NoReturn:
        """Print ``circles <command>: error: <message>`` and the ``--help`` pointer; exit 2.

        Parameters
        ----------
        message : str
            What argparse found wrong.
        """
        print(f"{self.prog}: error: {message}; see '{self.prog} --help'", file=sys.stderr)
        raise SystemExit(2)


def _field_value(text: str) -> tuple[str, str]:
    field, sep, value = text.partition("=")
    if not sep or not field.strip():
        raise argparse.ArgumentTypeError(f"{text!r} must be FIELD=VALUE, e.g. district=罗湖")
    return field.strip(), value.strip()


def where_mapping(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    """``FIELD=VALUE`` pairs as ``{field: [values]}`` (None when there are none).

    Parameters
    ----------
    pairs : list of (str, str)
        The parsed ``--...-where`` values.

    Returns
    -------
    dict or None
    """
    out: dict[str, list[str]] = {}
    for field, value in pairs:
        out.setdefault(field, []).append(value)
    return out or None


def _add_network(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("walk network (one of)")
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--pbf", type=Path, help="OpenStreetMap .osm.pbf extract")
    src.add_argument("--osm", type=Path, help="OpenStreetMap .osm / .xml file")
    src.add_argument("--graphml", type=Path, help="OSMnx GraphML export (facilities and homes from files)")
    src.add_argument("--place", help='place name to download online, e.g. "Luohu District, Shenzhen"')


def _add_inputs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("facilities")
    g.add_argument(
        "--facilities",
        default="osm",
        help="osm[:PRESET] (primary-care, hospital, pharmacy), key=value tags, or a CSV/XLSX/GeoJSON/GPKG "
        "file (default: osm:primary-care)",
    )
    g.add_argument(
        "--facility-crs", default="wgs84", help="wgs84, gcj02 (Amap, Tencent), bd09 (Baidu) or EPSG:n"
    )
    g.add_argument("--lon-column", help="longitude column of point files (default: found by name)")
    g.add_argument("--lat-column", help="latitude column of point files (default: found by name)")
    g.add_argument("--name-column", help="facility name column")
    g.add_argument("--kind-column", help="facility type column")
    g.add_argument("--capacity-column", help="capacity column, e.g. number of GPs")
    g.add_argument(
        "--name-contains",
        action="append",
        help="keep facilities whose name contains this text (repeatable: any of them)",
    )
    g.add_argument(
        "--name-excludes",
        action="append",
        help="drop facilities whose name contains this text (repeatable: any of them)",
    )
    g.add_argument(
        "--kind-contains",
        action="append",
        help="keep facilities whose type contains this text (repeatable: any of them)",
    )
    g.add_argument(
        "--kind-excludes",
        action="append",
        help="drop facilities whose type contains this text (repeatable: any of them)",
    )
    g.add_argument("--encoding", help="text encoding of CSV files (default: UTF-8, then GB18030)")
    g.add_argument("--layer", help="layer (GeoPackage) or sheet (XLSX) of the facility file")
    _add_homes_and_more(p)


def _add_homes_and_more(p: argparse.ArgumentParser) -> None:
    h = p.add_argument_group("homes and population")
    h.add_argument("--homes", default="osm", help="osm (residential buildings) or a file of homes")
    h.add_argument(
        "--homes-crs", help="coordinate system of a homes file (default: WGS-84 or the file's own)"
    )
    h.add_argument("--homes-layer", help="layer (GeoPackage) or sheet (XLSX) of the homes file")
    h.add_argument("--population-field", help="residents per home from this column of the homes")
    h.add_argument("--population-raster", type=Path, help="people-per-cell GeoTIFF (WorldPop style)")
    h.add_argument(
        "--population-total", type=_finite, help="known residents of the area, spread by floor area"
    )
    n = p.add_argument_group("new sites")
    n.add_argument("--recommend", type=_count, default=0, metavar="N", help="recommend N new facility sites")
    n.add_argument("--candidates", type=Path, help="file of candidate sites (default: streets near the gaps)")
    n.add_argument("--candidate-crs", help="coordinate system of the candidate file")
    n.add_argument("--candidate-layer", help="layer (GeoPackage) or sheet (XLSX) of the candidate file")
    s = p.add_argument_group("sub-areas")
    s.add_argument(
        "--subareas", type=Path, help="boundary file of sub-areas (e.g. sub-districts) to summarise"
    )
    s.add_argument("--subarea-name-field", help="name field of the sub-areas (default: name, if present)")
    s.add_argument("--subarea-crs", help="coordinate system of the sub-area file if not in the file")
    s.add_argument("--subarea-layer", help="layer of a multi-layer sub-area file (GeoPackage)")
    s.add_argument(
        "--subarea-where",
        action="append",
        type=_field_value,
        default=[],
        metavar="FIELD=VALUE",
        help="keep only sub-areas with this attribute value, e.g. district=罗湖 (repeatable)",
    )


def _add_travel_and_output(p: argparse.ArgumentParser, default_out: Path | None) -> None:
    t = p.add_argument_group("walking")
    t.add_argument(
        "--minutes",
        type=_finite,
        default=None,
        help="coverage threshold: covered within this many minutes (default: 15)",
    )
    t.add_argument(
        "--bands",
        type=_bands,
        default=None,
        help="reporting rings in minutes, may reach beyond --minutes (default: 5,10,15 up to the threshold)",
    )
    t.add_argument(
        "--speed-kmh", default=None, help="walking km/h, or 'elderly' (3.6) / 'adult' (4.5) (default: 4.5)"
    )
    t.add_argument(
        "--max-access-leg-m", type=_finite, default=250.0, help="longest walk from a home to a street, m"
    )
    t.add_argument(
        "--min-island-m",
        type=_finite,
        default=300.0,
        help="street fragments shorter than this are not snapped onto, m",
    )
    t.add_argument(
        "--area-buffer-m",
        type=_finite,
        default=50.0,
        help="width of the reached streets drawn as service areas, m",
    )
    _add_output(p, default_out)


def _add_output(p: argparse.ArgumentParser, default_out: Path | None) -> None:
    o = p.add_argument_group("output")
    o.add_argument(
        "--out",
        type=Path,
        default=default_out,
        help=f"output folder (default: {default_out or 'out/<name>'})",
    )
    page = o.add_mutually_exclusive_group()
    page.add_argument(
        "--offline-map",
        action="store_true",
        help="map.html draws with no internet (Leaflet inlined; the default, kept as a name)",
    )
    page.add_argument(
        "--cdn-map", action="store_true", help="a smaller map.html that loads Leaflet from a public CDN"
    )
    o.add_argument(
        "--tiles",
        default="osm",
        help="basemap: osm (default), none, amap, tencent (both GCJ-02: overlays are shifted to match), "
        "tianditu (needs --tiles-key or CIRCLES_TIANDITU_KEY), a URL template "
        "https://host/{z}/{x}/{y}.png, or a .mbtiles file (its tiles are copied next to map.html)",
    )
    o.add_argument("--tiles-key", help="key for the tianditu basemap (written into map.html)")
    o.add_argument(
        "--geoparquet", action="store_true", help="also write every layer as GeoParquet (needs pyarrow)"
    )
    o.add_argument(
        "--output-crs",
        help="coordinate system of printed coordinates and CSV tables: wgs84, gcj02 (Amap, Tencent) or bd09 "
        "(default: as --facility-crs when that is gcj02/bd09, else wgs84; GeoPackages are always WGS-84)",
    )
    o.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    o.add_argument(
        "-v", "--verbose", action="store_true", help="more detail; tracebacks on unexpected errors"
    )


def _add_area(p: argparse.ArgumentParser, *, batch: bool) -> None:
    a = p.add_argument_group("study area" + ("s" if batch else " (default: the whole network source)"))
    a.add_argument("--boundary", type=Path, required=batch, help="GeoJSON/GPKG/Shapefile of areas, any CRS")
    a.add_argument("--name-field", help="field holding area names")
    a.add_argument("--boundary-crs", help="coordinate system of the boundary file if not in it (e.g. gcj02)")
    a.add_argument("--boundary-layer", help="layer of a multi-layer boundary file (GeoPackage)")
    a.add_argument(
        "--where",
        action="append",
        type=_field_value,
        default=[],
        metavar="FIELD=VALUE",
        help="keep only boundary features with this attribute value (repeatable)",
    )
    if batch:
        a.add_argument("--areas", help="comma-separated subset of area names (default: all)")
    else:
        a.add_argument("--district", help="name of the area to analyse (with --name-field)")
        a.add_argument("--bbox", type=_bbox, help="W,S,E,N in degrees instead of a boundary")
        a.add_argument("--admin-area", help="name of a boundary=administrative relation in the OSM file")
        a.add_argument("--admin-level", help="admin_level of --admin-area when the name is ambiguous")
        a.add_argument("--name", help="study-area name shown in outputs")
    a.add_argument(
        "--allow-partial",
        action="store_true",
        help="go on when the network covers under half of the area or most facilities are off it "
        "(the result is flagged PARTIAL)",
    )


def _add_modes_and_tiers(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("travel modes and facility tiers")
    g.add_argument(
        "--mode",
        default="walk",
        help="walk (default), elderly (walk at 3.6 km/h), bicycle, ebike or drive; the mode of --tier "
        "specs that name none. Without --tier, a mode other than walking adds its own analysis of "
        "all facilities at --minutes",
    )
    g.add_argument(
        "--tier",
        action="append",
        metavar="NAME:MINUTES[:MODE[:RESIDENTS]]",
        help='a facility tier, its threshold, mode and target residents per facility, e.g. "village:15:walk" '
        '"township:15:ebike:30000" "hospital:30:drive" (repeatable); facilities are classified by '
        "--tier-column or by name (卫生室 village, 卫生院 township, 社区卫生服务 community, 医院 hospital)",
    )
    g.add_argument("--tier-plan", type=Path, help="TOML file of tiers (see README: facility tiers)")
    g.add_argument("--tier-column", help="facility column holding each facility's tier")
    g.add_argument("--bicycle-speed-kmh", type=_finite, help="cycling speed (default: 15)")
    g.add_argument("--ebike-speed-kmh", type=_finite, help="e-bike speed, capped by maxspeed (default: 20)")
    g.add_argument(
        "--drive-speeds",
        choices=("table", "observed"),
        help="speeds of roads without maxspeed: a fixed table by road class (default) or the mean "
        "posted speed of the class in the extract (OSMnx's imputation)",
    )
    g.add_argument(
        "--congestion-factor",
        type=_finite,
        help="share of the free-flow driving speed driven, in (0, 1] (default: 1, free flow)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``circles`` command."""
    from circles.cli.planning import add_planning

    parser = OneLineParser(
        prog="circles",
        description="Who lives within a 15-minute walk of a clinic: exact network walking times "
        "from OpenStreetMap, coverage per district and sub-district, gaps, and a map.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"circles {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    fmt = argparse.RawDescriptionHelpFormatter
    demo = sub.add_parser("demo", help="analyse the embedded central-Helsinki extract (no internet)")
    _add_travel_and_output(demo, Path("out/demo"))
    run = sub.add_parser("run", help="analyse one study area", epilog=EXAMPLES, formatter_class=fmt)
    _add_network(run)
    _add_area(run, batch=False)
    _add_inputs(run)
    add_planning(run)
    _add_travel_and_output(run, None)
    _add_modes_and_tiers(run)
    batch = sub.add_parser(
        "batch", help="analyse every area of a boundary file", epilog=EXAMPLES, formatter_class=fmt
    )
    _add_network(batch)
    _add_area(batch, batch=True)
    _add_inputs(batch)
    _add_travel_and_output(batch, None)
    _add_modes_and_tiers(batch)
    _add_cluster(batch)
    return parser


def _add_cluster(p: argparse.ArgumentParser) -> None:
    """Options of ``batch`` for Dask clusters, extracts and the parse cache."""
    c = p.add_argument_group("many areas, many machines")
    c.add_argument(
        "--workers",
        type=_count,
        default=1,
        help="areas in parallel on a local Dask cluster of N processes (default: 1, serial, no Dask)",
    )
    c.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run areas on an existing Dask cluster: its address, e.g. tcp://10.0.0.5:8786, or its "
        "scheduler file (default: $DASK_SCHEDULER_ADDRESS when set)",
    )
    c.add_argument(
        "--work-dir",
        type=Path,
        help="folder every worker can read, for the per-area extracts (default: inside --out for "
        "--workers; with --scheduler the extracts travel with the tasks)",
    )
    c.add_argument(
        "--cache-dir",
        type=Path,
        help="cache of parsed inputs, keyed by the files' content (default: $XDG_CACHE_HOME/circles)",
    )
    c.add_argument(
        "--no-cache", action="store_true", help="parse the inputs without reading or writing the cache"
    )
    c.add_argument("--force", action="store_true", help="recompute areas that are already complete")
