"""Capacity and competition (circles.planning.capacity): hand-computed toys and PySAL access."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from circles.errors import InputError
from circles.planning.capacity import e2sfca, facility_loads, share_below
from circles.planning.decay import GaussianWeights, SteppedWeights, decay_weights
from circles.planning.traveltimes import TravelTimes

# The toy: 5 homes, 3 clinics. Times in minutes; absent pairs are out of reach.
# H0-C0 is 0 minutes (the clinic is in the building), H2-C1 and H2-C2 sit exactly on the
# 5- and 10-minute band edges, H4-C0 exactly on 15, H4-C1 is 16 (beyond the catchment).
TOY_PAIRS = [(0, 0, 0.0), (0, 1, 7.0), (1, 0, 4.0), (1, 2, 12.0), (2, 1, 5.0), (2, 2, 10.0), (3, 2, 3.0)]
TOY_PAIRS += [(4, 0, 15.0), (4, 1, 16.0)]
TOY_POP = np.array([1000.0, 2000.0, 500.0, 1500.0, 4000.0])
TOY_SUPPLY = np.array([2.0, 1.0, 3.0])


def toy_times() -> TravelTimes:
    h, f, t = zip(*TOY_PAIRS, strict=True)
    return TravelTimes.from_pairs(h, f, t, n_homes=5, n_facilities=3)


def test_stepped_weights_match_access_step_fn_on_band_edges():
    from access import weights as aw

    fn = aw.step_fn({5: 1.0, 10: 0.68, 15: 0.22})
    t = np.array([0.0, 2.5, 5.0, 5.0000001, 9.99, 10.0, 12.0, 15.0, 15.01, 40.0])
    np.testing.assert_array_equal(SteppedWeights()(t), [fn(x) for x in t])
    assert SteppedWeights()(np.array([5.0, 10.0, 15.0])).tolist() == [1.0, 0.68, 0.22]


def test_gaussian_weights_match_access_gaussian_within_threshold():
    from access import weights as aw

    t = np.linspace(0, 20, 81)
    ours = GaussianWeights(15.0, 6.0)(t)
    ref = np.array([aw.gaussian(6.0)(x) for x in t])
    np.testing.assert_allclose(ours[t <= 15], ref[t <= 15], rtol=0, atol=1e-15)
    assert np.all(ours[t > 15] == 0)
    assert GaussianWeights(15.0).sigma == 7.5


def test_decay_weights_scale_luo_qi_steps_to_the_threshold():
    assert decay_weights("stepped", 30.0) == SteppedWeights((10.0, 20.0, 30.0), (1.0, 0.68, 0.22))
    assert decay_weights("gaussian", 15.0, sigma_min=5.0) == GaussianWeights(15.0, 5.0)
    with pytest.raises(InputError, match="access_decay"):
        decay_weights("linear")
    with pytest.raises(InputError, match="ascending"):
        SteppedWeights((10.0, 5.0), (1.0, 0.5))


def test_zero_minute_pairs_survive():
    tt = toy_times()
    assert tt.n_pairs == 9
    assert tt.time_min[0] == 0.0 and tt.facility[0] == 0
    within = tt.within(15.0)
    assert within.n_pairs == 8 and within.time_min[0] == 0.0
    cover = tt.coverage(15.0)
    assert cover.shape == (3, 5) and cover.nnz == 8 and cover[0, 0]


def test_e2sfca_toy_by_hand():
    res = e2sfca(toy_times(), TOY_POP, TOY_SUPPLY)
    # Weighted residents in reach per clinic (W = 1.00 / 0.68 / 0.22; H4-C1 at 16 min weighs 0):
    d0 = 1000 * 1.0 + 2000 * 1.0 + 4000 * 0.22  # H0 at 0, H1 at 4, H4 at 15 min
    d1 = 1000 * 0.68 + 500 * 1.0  # H0 at 7, H2 at 5 min
    d2 = 2000 * 0.22 + 500 * 0.68 + 1500 * 1.0  # H1 at 12, H2 at 10, H3 at 3 min
    assert (d0, d1, d2) == (3880.0, 1180.0, 2280.0)
    np.testing.assert_allclose(res.weighted_population, [d0, d1, d2], rtol=1e-15)
    r0, r1, r2 = 2 / d0, 1 / d1, 3 / d2
    np.testing.assert_allclose(res.supply_ratio, [r0, r1, r2], rtol=1e-15)
    expected = [
        1.0 * r0 + 0.68 * r1,
        1.0 * r0 + 0.22 * r2,
        1.0 * r1 + 0.68 * r2,
        1.0 * r2,
        0.22 * r0,
    ]
    np.testing.assert_allclose(res.access_per_10k, 1e4 * np.array(expected), rtol=1e-14)
    assert res.reached.all()


def test_e2sfca_home_out_of_reach_scores_zero_and_clinic_without_residents_has_no_ratio():
    tt = TravelTimes.from_pairs([0, 1], [0, 0], [3.0, 20.0], n_homes=3, n_facilities=2)
    res = e2sfca(tt, [100.0, 50.0, 70.0], [1.0, 5.0])
    np.testing.assert_allclose(res.access_per_10k, [100.0, 0.0, 0.0])
    assert res.supply_ratio[1] == 0.0 and res.reached.tolist() == [True, False, False]


def _access_reference(tt: TravelTimes, pop, supply, weight_fn, max_cost):
    from access import Access

    home = tt.home()
    cost = pd.DataFrame({"origin": home, "dest": tt.facility.astype(np.int64), "cost": tt.time_min})
    demand = pd.DataFrame({"pop": np.asarray(pop, float)}, index=pd.RangeIndex(tt.n_homes, name="geoid"))
    sup = pd.DataFrame({"doc": np.asarray(supply, float)}, index=pd.RangeIndex(tt.n_facilities, name="geoid"))
    a = Access(
        demand_df=demand,
        demand_index=True,
        demand_value="pop",
        supply_df=sup,
        supply_index=True,
        supply_value="doc",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    out = a.enhanced_two_stage_fca(name="e2", weight_fn=weight_fn, max_cost=max_cost)
    return out["e2_doc"].reindex(range(tt.n_homes)).to_numpy()


def _random_times(rng, n_homes, n_fac, density):
    mask = rng.random((n_homes, n_fac)) < density
    t = np.round(rng.uniform(0, 20, (n_homes, n_fac)), 1)  # rounding puts many times on 5/10/15 edges
    t[rng.random(t.shape) < 0.02] = 0.0
    return TravelTimes.from_dense(np.where(mask, t, np.nan))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_e2sfca_agrees_with_pysal_access_stepped(seed):
    from access import weights as aw

    rng = np.random.default_rng(seed)
    tt = _random_times(rng, 400, 25, 0.3)
    pop = rng.integers(0, 400, tt.n_homes).astype(float)
    supply = rng.integers(1, 8, tt.n_facilities).astype(float)
    ours = e2sfca(tt, pop, supply, SteppedWeights())
    ref = _access_reference(tt, pop, supply, aw.step_fn({5: 1.0, 10: 0.68, 15: 0.22}), 15.0)
    present = ~np.isnan(ref)
    assert present.sum() > 350
    np.testing.assert_allclose(ours.access_per_10k[present] / 1e4, ref[present], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.access_per_10k[present] / 1e4, ref[present], rtol=1e-12)
    # Homes absent from access's answer have no facility within 15 minutes: 0 here.
    assert np.all(ours.access_per_10k[~present] == 0)


def test_e2sfca_agrees_with_pysal_access_gaussian():
    from access import weights as aw

    rng = np.random.default_rng(7)
    tt = _random_times(rng, 300, 15, 0.4)
    pop = rng.uniform(1, 300, tt.n_homes)
    supply = rng.uniform(0.5, 6, tt.n_facilities)
    ours = e2sfca(tt, pop, supply, GaussianWeights(15.0, 6.0))
    ref = _access_reference(tt, pop, supply, aw.gaussian(6.0), 15.0)
    present = ~np.isnan(ref)
    np.testing.assert_allclose(ours.access_per_10k[present] / 1e4, ref[present], rtol=1e-12, atol=1e-15)


def test_facility_loads_toy_by_hand():
    nearest = np.array([0, 0, 1, 2, 0])  # H0 (0 min), H1 (4), H2 (5 to C1), H3 (3), H4 (15)
    loads = facility_loads(
        nearest,
        TOY_POP,
        3,
        times=toy_times(),
        threshold_min=15.0,
        supply=TOY_SUPPLY,
        residents_per_facility=5000.0,
        supply_target_per_10k=3.9,
    )
    assert loads.catchment_homes.tolist() == [3, 1, 1]
    assert loads.catchment_population.tolist() == [7000.0, 500.0, 1500.0]
    # In reach within 15 min: C0 <- H0, H1, H4; C1 <- H0, H2 (H4 at 16 is out); C2 <- H1, H2, H3.
    assert loads.population_within.tolist() == [7000.0, 1500.0, 4000.0]
    assert loads.catchment_to_target.tolist() == [1.4, 0.1, 0.3]
    assert loads.over_resident_target.tolist() == [True, False, False]
    np.testing.assert_allclose(loads.supply_per_10k, [2e4 / 7000, 1e4 / 500, 3e4 / 1500], rtol=1e-15)
    assert loads.below_supply_target.tolist() == [True, False, False]  # 2.86 GPs per 10,000 < 3.9
    assert loads.overloaded.tolist() == [True, False, False]


def test_facility_loads_unreached_homes_and_empty_catchments():
    loads = facility_loads([-1, 1, 1], [10.0, 20.0, 30.0], 3)
    assert loads.catchment_population.tolist() == [0.0, 50.0, 0.0]
    assert np.isnan(loads.supply_per_10k[[0, 2]]).all() and not loads.below_supply_target.any()
    assert np.isnan(loads.population_within).all()
    with pytest.raises(InputError, match="residents_per_facility"):
        facility_loads([0], [1.0], 1, residents_per_facility=0)


def test_share_below_by_group():
    codes, share = share_below([1.0, 5.0, 2.0, 9.0], [10.0, 30.0, 0.0, 60.0], 3.0, [0, 0, 1, 2])
    assert codes.tolist() == [0, 1, 2]
    assert share[0] == 0.25 and np.isnan(share[1]) and share[2] == 0.0


def test_bad_travel_times_are_clear_errors():
    with pytest.raises(InputError, match="given twice"):
        TravelTimes.from_pairs([0, 0], [1, 1], [1.0, 2.0], n_homes=1, n_facilities=2)
    with pytest.raises(InputError, match="finite and >= 0"):
        TravelTimes.from_pairs([0], [0], [np.inf], n_homes=1, n_facilities=1)
    with pytest.raises(InputError, match="out of range"):
        TravelTimes.from_pairs([2], [0], [1.0], n_homes=2, n_facilities=1)
    with pytest.raises(InputError, match="expected 4 x 3"):
        e2sfca(toy_times(), np.ones(4))


NANJING_PBF = "nanjing_xuanwu_osm/nanjing_xuanwu_osmwebwizard.osm.pbf"
HEALTH_TAGS = (
    "amenity=clinic,amenity=doctors,amenity=hospital,amenity=pharmacy,amenity=dentist,"
    "healthcare=centre,healthcare=clinic,healthcare=doctor,healthcare=hospital,healthcare=pharmacy"
)


def _nanjing_travel_times(path, limit_m=1500.0, speed_m_per_min=75.0):
    """Exact walking minutes from every building to every health facility of the real extract."""
    import shapely

    from circles.config import facility_preset
    from circles.engine import pair_costs
    from circles.network import WalkNetwork
    from circles.sources.osm import read_osm

    layers = read_osm(path, facility_preset(HEALTH_TAGS))
    net = WalkNetwork.from_lines(layers.walkways.geometry.values, layers.walkways.crs)
    fac_xy = net.to_local(layers.facilities.geometry.x.to_numpy(), layers.facilities.geometry.y.to_numpy())
    buildings = layers.buildings.to_crs(net.crs)
    home_xy = shapely.get_coordinates(shapely.point_on_surface(buildings.geometry.values))
    fac, home = net.snap(fac_xy, max_access_leg_m=250.0), net.snap(home_xy, max_access_leg_m=250.0)
    f_ok, h_ok = np.flatnonzero(fac.attached), np.flatnonzero(home.attached)
    pairs = pair_costs(net.travel_graph, fac.subset(f_ok), home.subset(h_ok), limit_m)
    times = TravelTimes.from_pairs(
        pairs.point, pairs.source, pairs.cost / speed_m_per_min, n_homes=h_ok.size, n_facilities=f_ok.size
    )
    area = buildings.geometry.area.to_numpy()[h_ok]
    residents = np.maximum(1.0, np.round(area / 30.0))  # one resident per 30 m2 of footprint
    kinds = layers.facilities["amenity"].fillna("pharmacy").to_numpy()[f_ok]
    supply = np.select([kinds == "hospital", kinds == "clinic"], [12.0, 3.0], 1.0)
    return times, residents, supply


@pytest.mark.shared_data
def test_e2sfca_agrees_with_pysal_access_on_nanjing_walking_times(shared_data):
    from access import weights as aw

    path = shared_data / NANJING_PBF
    if not path.is_file():
        pytest.skip(f"real-data test: {path} is absent")
    tt, residents, supply = _nanjing_travel_times(path)
    assert tt.n_facilities >= 6 and tt.n_homes > 1000 and tt.n_pairs > 2000
    assert (tt.time_min > 15).any()  # pairs beyond the catchment are present and must weigh 0
    for weights, fn in [
        (SteppedWeights(), aw.step_fn({5: 1.0, 10: 0.68, 15: 0.22})),
        (GaussianWeights(15.0), aw.gaussian(7.5)),
    ]:
        ours = e2sfca(tt, residents, supply, weights)
        ref = _access_reference(tt, residents, supply, fn, 15.0)
        present = ~np.isnan(ref)
        assert present.sum() > 500
        np.testing.assert_allclose(ours.access_per_10k[present] / 1e4, ref[present], rtol=1e-12, atol=1e-9)
        assert np.all(ours.access_per_10k[~present] == 0)
