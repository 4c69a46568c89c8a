"""Study areas with borders: clipping with a walking margin, and sub-area summaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from circles import TravelSettings
from circles.pipeline import osm_inputs, run_study


@pytest.fixture(scope="module")
def helsinki_inputs(helsinki_pbf):
    return osm_inputs(helsinki_pbf)


def halves(inputs):
    minx, miny, maxx, maxy = inputs.homes.total_bounds
    mid = (minx + maxx) / 2
    west = shapely.box(minx - 0.01, miny - 0.01, mid, maxy + 0.01)
    east = shapely.box(mid, miny - 0.01, maxx + 0.01, maxy + 0.01)
    return gpd.GeoDataFrame({"name": ["West", "East"]}, geometry=[west, east], crs=4326)


def test_border_homes_keep_their_times_across_the_border(helsinki_inputs):
    whole = run_study(helsinki_inputs, name="all")
    times = dict(zip(whole.homes["osm_id"], whole.homes["walk_time_min"], strict=True))
    parts = halves(helsinki_inputs)
    seen = 0
    for i in range(2):
        part = run_study(helsinki_inputs, name=parts["name"][i], boundary=parts.iloc[[i]], allow_partial=True)
        # The halves reach 1 km beyond the extract: the result says it is partial.
        assert part.summary.partial and "PARTIAL RESULT" in part.summary.warnings[0]
        # Only homes inside the half are reported ...
        pts = shapely.point_on_surface(part.homes.geometry.values)
        assert shapely.within(pts, parts.geometry.values[i]).all()
        # ... and each keeps exactly the time it has when the whole extract is the area, because
        # streets and clinics within reach beyond the border are loaded too.
        np.testing.assert_array_equal(part.homes["walk_time_min"], [times[h] for h in part.homes["osm_id"]])
        seen += len(part.homes)
    assert seen == len(whole.homes)


def test_subarea_summaries_partition_the_area(helsinki_inputs):
    parts = halves(helsinki_inputs)
    result = run_study(helsinki_inputs, name="all", subareas=parts)
    subs = result.summary.to_dict()["subareas"]
    assert [s["name"] for s in subs] == ["West", "East"]
    assert sum(s["homes"] for s in subs) == result.summary.to_dict()["homes"]
    assert sum(s["covered_population"] for s in subs) == pytest.approx(
        result.summary.to_dict()["covered_population"], abs=0.5
    )
    west = result.homes[
        shapely.within(shapely.point_on_surface(result.homes.geometry.values), parts.geometry[0])
    ]
    assert subs[0]["homes"] == len(west)
    assert subs[0]["covered_homes"] == int(west["covered"].sum())
    assert subs[0]["facilities"]["inside"] + subs[1]["facilities"]["inside"] == 7


def test_area_with_no_streets_is_a_clear_error(helsinki_inputs):
    from circles.errors import EmptyResultError

    far = gpd.GeoDataFrame({"name": ["Sea"]}, geometry=[shapely.box(24.0, 59.0, 24.01, 59.01)], crs=4326)
    with pytest.raises(EmptyResultError, match="no walkable streets within reach of the study area"):
        run_study(helsinki_inputs, name="Sea", boundary=far, settings=TravelSettings())
