"""Population per home from a raster (tiny GeoTIFFs written here) and the existing estimators."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from circles.config import PopulationSettings
from circles.errors import InputError, InputFileError
from circles.sources.population import (
    estimate_population,
    population_from_column,
    population_from_raster,
)

UTM50 = "EPSG:32650"
X0, Y0 = 500_000.0, 2_490_300.0  # top-left corner of the raster; cells are 100 m
NODATA = -99999.0
#   columns:   0       1      2
#   row 0:    10      20     30
#   row 1:    40       0     50
#   row 2:  nodata     5      0
PEOPLE = np.array([[10, 20, 30], [40, 0, 50], [NODATA, 5, 0]], dtype=np.float32)


def _write_raster(path, crs=UTM50, values=PEOPLE):
    import rasterio

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=Affine(100.0, 0.0, X0, 0.0, -100.0, Y0),
        nodata=NODATA,
    ) as dst:
        dst.write(values, 1)
    return path


def _box(x0, y0, x1, y1):
    """A box in metres relative to the raster's bottom-left corner (500000, 2490000)."""
    return shapely.box(X0 + x0, Y0 - 300 + y0, X0 + x1, Y0 - 300 + y1)


# Cell (row, col) spans x in [100 col, 100 col + 100], y in [200 - 100 row, 300 - 100 row].
BUILDINGS = [
    _box(10, 210, 40, 240),  # H0: cell (0,0), 900 m2
    _box(50, 250, 80, 290),  # H1: cell (0,0), 1,200 m2
    _box(150, 220, 250, 240),  # H2: 1,000 m2 in cell (0,1) and 1,000 m2 in cell (0,2)
    _box(260, 260, 290, 290),  # H3: cell (0,2), 900 m2
    _box(120, 120, 180, 180),  # H4: cell (1,1), which has no people
    _box(210, 110, 290, 190),  # H5: cell (1,2)
    _box(10, 10, 90, 90),  # H6: cell (2,0), nodata
]
EXPECTED = [
    10 * 900 / 2100,
    10 * 1200 / 2100,
    20 + 30 * 1000 / 1900,
    30 * 900 / 1900,
    0.0,
    50.0,
    0.0,
]


@pytest.fixture
def raster(tmp_path):
    return _write_raster(tmp_path / "people.tif")


def test_polygon_homes_share_cells_by_area(raster):
    homes = gpd.GeoDataFrame(geometry=BUILDINGS, crs=UTM50)
    people, text = population_from_raster(homes, raster)
    assert people == pytest.approx(EXPECTED, rel=1e-12)
    assert people.sum() == pytest.approx(110.0)  # 10 + 20 + 30 + 50: every occupied cell, in full
    # Cells (1,0) with 40 and (2,1) with 5 people hold no home.
    assert text == (
        "raster people.tif (people per cell shared among the buildings in it by footprint area): "
        "110 residents assigned to homes; 45 (29.0%) of the 155 people the raster puts in "
        "the homes' extent live in cells without a home and are not counted"
    )


def test_homes_in_another_crs(raster, tmp_path):
    homes = gpd.GeoDataFrame(geometry=BUILDINGS, crs=UTM50).to_crs("EPSG:4326")
    people, _ = population_from_raster(homes, raster)
    assert people == pytest.approx(EXPECTED, rel=1e-6)
    # And the raster in another CRS than the homes the other way round: a WGS-84 raster.
    # A WGS-84 raster (0.001-degree cells from 114.0 E, 22.5 N) under homes given in UTM.
    lonlat = _write_raster(tmp_path / "lonlat.tif", crs="EPSG:4326")
    import rasterio

    with rasterio.open(lonlat, "r+") as dst:
        dst.transform = Affine(0.001, 0.0, 114.0, 0.0, -0.001, 22.5)
    one_cell = shapely.box(114.0002, 22.4992, 114.0004, 22.4994)  # cell (0,0): 10 people
    two_cells = shapely.box(114.0012, 22.4992, 114.0028, 22.4994)  # half in (0,1), half in (0,2)
    homes_utm = gpd.GeoDataFrame(geometry=[one_cell, two_cells], crs="EPSG:4326").to_crs(UTM50)
    people, _ = population_from_raster(homes_utm, lonlat)
    # Each home is alone in its cells: it takes all their people (20 + 30 for the second).
    assert people == pytest.approx([10.0, 50.0], rel=1e-9)


def test_point_homes_share_cells_equally(raster):
    points = [
        shapely.Point(X0 + 20, Y0 - 20),  # (0,0)
        shapely.Point(X0 + 80, Y0 - 80),  # (0,0)
        shapely.Point(X0 + 150, Y0 - 50),  # (0,1)
        shapely.Point(X0 + 150, Y0 - 150),  # (1,1): no people
        shapely.Point(X0 + 500, Y0 - 50),  # off the raster
        shapely.Point(X0 + 250, Y0 - 150),  # (1,2)
    ]
    homes = gpd.GeoDataFrame(geometry=points, crs=UTM50)
    people, text = population_from_raster(homes, raster)
    assert people.tolist() == [5.0, 5.0, 20.0, 0.0, 0.0, 50.0]
    # The homes' bounding box spans rows 0-1 (150 people); unassigned there: (0,2) 30, (1,0) 40.
    assert "80 residents assigned to homes; 70 (46.7%) of the 150 people" in text
    assert text.endswith("; 1 home(s) lie outside the raster and get 0")
    assert "shared equally among the point homes" in text

    # With a study area covering the top row only, unassigned people are counted there.
    top_row = gpd.GeoSeries([_box(0, 200, 300, 300)], crs=UTM50).to_crs("EPSG:4326").iloc[0]
    _, text = population_from_raster(homes, raster, study_area_wgs84=top_row)
    assert "30 (50.0%) of the 60 people the raster puts in the study area" in text


def test_raster_errors(raster, tmp_path):
    homes = gpd.GeoDataFrame(geometry=BUILDINGS, crs=UTM50)
    with pytest.raises(InputFileError, match="no such population raster"):
        population_from_raster(homes, tmp_path / "missing.tif")
    text_file = tmp_path / "not_a_raster.tif"
    text_file.write_text("hello", encoding="utf-8")
    with pytest.raises(InputFileError, match="cannot be read as a raster"):
        population_from_raster(homes, text_file)
    with pytest.raises(InputError, match="homes have no coordinate system"):
        population_from_raster(gpd.GeoDataFrame(geometry=BUILDINGS), raster)
    mixed = gpd.GeoDataFrame(geometry=[BUILDINGS[0], shapely.Point(X0 + 5, Y0 - 5)], crs=UTM50)
    with pytest.raises(InputError, match="homes mix 1 points and 1 polygons"):
        population_from_raster(mixed, raster)
    far = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 5000, Y0 + 5000)], crs=UTM50)
    with pytest.raises(InputError, match="none of the 1 homes lies on the raster"):
        population_from_raster(far, raster)
    line = gpd.GeoDataFrame(geometry=[BUILDINGS[0], shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], crs=UTM50)
    with pytest.raises(InputError, match="home row 2 is neither a point nor a polygon"):
        population_from_raster(line, raster)


def test_floor_area_estimates_still_work():
    homes = gpd.GeoDataFrame(
        {"building": ["apartments", "house"], "building:levels": ["10", None]},
        geometry=[shapely.box(0, 0, 20, 10), shapely.box(100, 0, 110, 10)],
        crs=UTM50,
    )
    settings = PopulationSettings()
    people, _ = estimate_population(homes, settings, total=1000)
    assert people.sum() == pytest.approx(1000)
    assert population_from_column(homes.assign(pop=[3, 4]), "pop").tolist() == [3.0, 4.0]
