"""New sites (circles.planning.covering / capacitated): brute force, spopt, hand-checked toys."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from circles.errors import InputError
from circles.planning.capacitated import capacitated_max_cover
from circles.planning.covering import EXACT, max_cover, set_cover
from circles.planning.greedy import aggregate, as_cover, covered_by

ONE_MINUS_1_OVER_E = 1 - 1 / np.e


def random_instance(seed: int, n_cand: int = 10, n_exist: int = 2, n_demand: int = 36, density: float = 0.18):
    """Candidates and existing facilities covering demand points on a random planar layout."""
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 10, (n_demand, 2))
    cand = rng.uniform(0, 10, (n_cand, 2))
    exist = rng.uniform(0, 10, (n_exist, 2))
    radius = np.sqrt(density * 100 / np.pi)
    c = np.linalg.norm(cand[:, None] - demand[None], axis=2) <= radius
    e = np.linalg.norm(exist[:, None] - demand[None], axis=2) <= radius
    w = rng.integers(1, 500, n_demand).astype(float)
    w[rng.random(n_demand) < 0.1] = 0.0
    return c, e, w


def brute_max_cover(c, w, open_demand, k):
    best = 0.0
    for combo in itertools.combinations(range(c.shape[0]), min(k, c.shape[0])):
        hit = c[list(combo)].any(axis=0) & open_demand
        best = max(best, float(w[hit].sum()))
    return best


def brute_set_cover(c, need):
    if not need.any():
        return 0
    for r in range(1, c.shape[0] + 1):
        for combo in itertools.combinations(range(c.shape[0]), r):
            if c[list(combo)].any(axis=0)[need].all():
                return r
    raise AssertionError("no cover")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_exact_mclp_equals_brute_force_and_greedy_is_within_1_minus_1_over_e(seed, k):
    c, e, w = random_instance(seed)
    covered = e.any(axis=0)
    optimum = brute_max_cover(c, w, ~covered, k)
    exact = max_cover(c, w, k, covered=covered, lagrangian_iterations=0)  # HiGHS unless greedy proves it
    assert exact.status == "optimal" and exact.gap == 0.0
    assert exact.objective == pytest.approx(optimum, abs=1e-6)
    default = max_cover(c, w, k, covered=covered)
    assert default.status == "optimal" and default.objective == pytest.approx(optimum, abs=1e-6)
    hit = c[exact.sites].any(axis=0) & ~covered
    assert float(w[hit].sum()) == pytest.approx(exact.objective)  # the sites really cover it
    assert exact.covered_before == float(w[covered].sum())
    np.testing.assert_allclose(exact.covered_after, exact.covered_before + np.cumsum(exact.gain))
    assert np.all(np.diff(exact.gain) <= 1e-9)  # largest marginal gain first
    greedy = max_cover(c, w, k, covered=covered, method="greedy", lagrangian_iterations=0, lp_bound=False)
    assert greedy.method == "greedy"
    assert greedy.objective >= ONE_MINUS_1_OVER_E * optimum - 1e-9
    assert greedy.bound >= optimum - 1e-6  # the reported online bound is a true bound
    assert greedy.gap == pytest.approx(max(0.0, (greedy.bound - greedy.objective) / greedy.bound))
    fast = max_cover(c, w, k, covered=covered, method="greedy")  # + Lagrangian bound and sites, LP bound
    assert greedy.objective <= fast.objective <= optimum + 1e-9 <= fast.bound + 2e-6


@pytest.mark.parametrize("seed", range(8))
def test_lagrangian_bound_is_a_true_bound_near_the_lp_bound(seed):
    from circles.planning import _highs
    from circles.planning.covering import _prepare, _solve_mclp
    from circles.planning.lagrangian import max_cover_lagrangian

    c, e, w = random_instance(seed, n_cand=12, density=0.15)
    covered = e.any(axis=0)
    k = 3
    g = _prepare(c, w, covered).groups
    optimum = brute_max_cover(c, w, ~covered, k)
    lp = _solve_mclp(g, k, "greedy", 60.0, 0.0)
    assert isinstance(lp, _highs.Solution) and lp.status == "optimal"
    lag = max_cover_lagrangian(g.sites, g.weight, k, 0.0, iterations=2000)
    assert lag.bound >= lp.bound - 1e-6 >= optimum - 1e-6  # LP duality: no multiplier beats the LP
    assert lag.bound <= 1.02 * lp.bound  # and the subgradient gets within 2% of it here
    hit = c[lag.sites].any(axis=0) & ~covered  # the sites it reports cover what it says
    assert lag.sites.size <= k and float(w[hit].sum()) == pytest.approx(lag.value)
    assert lag.value <= optimum + 1e-9


def test_greedy_optimality_rate_is_reported():
    """How often greedy is optimal on small random instances (printed; see bench/siting.py)."""
    rows = []
    for seed, k in itertools.product(range(40), (2, 3, 4)):
        c, e, w = random_instance(100 + seed, n_cand=12, density=0.12)
        covered = e.any(axis=0)
        optimum = brute_max_cover(c, w, ~covered, k)
        greedy = max_cover(c, w, k, covered=covered, method="greedy", lagrangian_iterations=0, lp_bound=False)
        rows.append((greedy.objective, optimum))
    ratio = np.array([g / o if o > 0 else 1.0 for g, o in rows])
    optimal = np.isclose(ratio, 1.0)
    print(
        f"\ngreedy MCLP on {len(rows)} random instances (12 candidates, k = 2-4): optimal in "
        f"{optimal.sum()} ({optimal.mean():.0%}), worst ratio {ratio.min():.4f}, mean {ratio.mean():.4f}"
    )
    assert ratio.min() >= ONE_MINUS_1_OVER_E
    assert 0 < optimal.sum() < len(rows)  # neither always nor never optimal on these instances


@pytest.mark.parametrize("seed", range(10))
def test_exact_lscp_equals_brute_force(seed):
    c, e, w = random_instance(seed, n_cand=9, density=0.2)
    covered = e.any(axis=0)
    reach = c.any(axis=0)
    need = (w > 0) & ~covered & reach
    res = set_cover(c, w, covered=covered, lagrangian_iterations=0)  # HiGHS
    assert res.status == "optimal" and res.gap == 0.0
    assert res.objective == brute_set_cover(c, need) == res.sites.size
    default = set_cover(c, w, covered=covered)
    assert default.status == "optimal" and default.objective == res.objective
    assert c[default.sites].any(axis=0)[need].all()
    assert c[res.sites].any(axis=0)[need].all()
    expected_unreached = np.flatnonzero((w > 0) & ~covered & ~reach)
    np.testing.assert_array_equal(res.uncoverable, expected_unreached)
    assert res.uncoverable_weight == float(w[expected_unreached].sum())
    greedy = set_cover(c, w, covered=covered, method="greedy")
    assert c[greedy.sites].any(axis=0)[need].all()
    assert greedy.bound <= res.objective <= greedy.objective


@pytest.mark.parametrize("seed", range(10))
def test_set_cover_lagrangian_bound_and_cover(seed):
    from circles.planning.covering import _prepare
    from circles.planning.lagrangian import set_cover_lagrangian

    c, e, w = random_instance(seed, n_cand=10, density=0.2)
    covered = e.any(axis=0)
    need = (w > 0) & ~covered & c.any(axis=0)
    g = _prepare(c, w, covered).groups
    optimum = brute_set_cover(c, need)
    lag = set_cover_lagrangian(g.sites, g.weight, upper=c.shape[0], iterations=300)
    assert lag.bound <= optimum <= lag.value == lag.sites.size  # a true lower bound, a true cover
    assert c[lag.sites].any(axis=0)[need].all()


def _spopt_cost(e, c):
    """spopt's dense (demand x facilities) cost matrix: 0 within reach, 2 beyond a radius of 1."""
    return np.where(np.vstack([e, c]).T, 0.0, 2.0)


SPOPT_WARNINGS = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp")


@SPOPT_WARNINGS
@pytest.mark.parametrize("seed", range(4))
def test_mclp_same_optimum_as_spopt_with_predefined_facilities(seed):
    import pulp
    from spopt.locate import MCLP

    c, e, w = random_instance(seed, n_cand=14, n_exist=3, n_demand=60)
    k = 3
    mclp = MCLP.from_cost_matrix(
        _spopt_cost(e, c),
        w,
        service_radius=1.0,
        p_facilities=e.shape[0] + k,
        predefined_facilities_arr=np.r_[np.ones(e.shape[0]), np.zeros(c.shape[0])].astype(int),
    )
    mclp.solve(pulp.PULP_CBC_CMD(msg=False))
    ours = max_cover(c, w, k, covered=e.any(axis=0))
    total = ours.covered_after[-1] if ours.sites.size else ours.covered_before
    assert total == pytest.approx(pulp.value(mclp.problem.objective), abs=1e-6)


@SPOPT_WARNINGS
@pytest.mark.parametrize("seed", range(3))
def test_lscp_same_optimum_as_spopt_with_predefined_facilities(seed):
    import pulp
    from spopt.locate import LSCP

    c, e, w = random_instance(seed, n_cand=14, n_exist=3, n_demand=60)
    w = np.ones_like(w)
    reach = c.any(axis=0) | e.any(axis=0)
    cost = _spopt_cost(e[:, reach], c[:, reach])
    lscp = LSCP.from_cost_matrix(
        cost, 1.0, predefined_facilities_arr=np.r_[np.ones(e.shape[0]), np.zeros(c.shape[0])].astype(int)
    )
    lscp.solve(pulp.PULP_CBC_CMD(msg=False))
    ours = set_cover(c, w, covered=e.any(axis=0))
    assert e.shape[0] + ours.objective == pytest.approx(pulp.value(lscp.problem.objective))


def test_aggregation_merges_identical_coverage_sets_exactly():
    cover = sp.csr_matrix(np.array([[1, 1, 0, 1, 0], [0, 1, 0, 1, 1], [1, 1, 0, 1, 0]], dtype=bool))
    w = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    g = aggregate(as_cover(cover), w, np.array([True, True, False, True, True]))
    # Points 1 and 3 are covered by {0, 1, 2}; point 0 by {0, 2}; point 4 by {1}; point 2 left out.
    assert g.n == 3
    assert g.of_point.tolist() == [0, 1, -1, 1, 2]
    assert g.weight.tolist() == [1.0, 10.0, 16.0] and g.members.tolist() == [1, 2, 1]
    assert g.sites.toarray().tolist() == [[True, False, True], [True, True, True], [False, True, False]]


def test_mclp_by_hand_with_existing_facilities_where_greedy_is_not_optimal():
    # Demand 0..6 with residents; the existing clinic covers 0 and 1.
    w = np.array([100.0, 50.0, 60.0, 60.0, 60.0, 60.0, 10.0])
    existing = np.array([[1, 1, 0, 0, 0, 0, 0]], dtype=bool)
    cand = np.array(
        [
            [1, 1, 0, 0, 0, 0, 0],  # A: only already-covered demand (adds 0)
            [0, 1, 1, 1, 0, 0, 0],  # B: d2 + d3 = 120
            [0, 0, 0, 1, 1, 0, 1],  # C: d3 + d4 + d6 = 130
            [0, 0, 0, 0, 1, 1, 0],  # D: d4 + d5 = 120
        ],
        dtype=bool,
    )
    covered = covered_by(existing)
    res = max_cover(cand, w, 2, covered=covered, lagrangian_iterations=0)
    # Best pair: B + D = 240. Greedy takes C (130) first, then B or D adds only 60: 190.
    assert res.method == EXACT and res.status == "optimal" and res.gap == 0.0
    assert res.sites.tolist() == [1, 3] and res.gain.tolist() == [120.0, 120.0]
    assert res.covered_before == 150.0 and res.covered_after.tolist() == [270.0, 390.0]
    greedy = max_cover(cand, w, 2, covered=covered, method="greedy", lagrangian_iterations=0)
    assert (
        greedy.method == "greedy"
        and greedy.sites.tolist() == [2, 1]
        and greedy.gain.tolist() == [130.0, 60.0]
    )
    # The LP relaxation's optimum is B + D = 240 (no fractional choice does better).
    assert greedy.status == "feasible" and greedy.bound_source == "LP relaxation"
    assert greedy.bound == pytest.approx(240.0) and greedy.gap == pytest.approx(50.0 / 240.0)
    online = max_cover(cand, w, 2, covered=covered, method="greedy", lagrangian_iterations=0, lp_bound=False)
    # Online bound: after C (130), the two largest gains left are B's and D's 60 each: 250.
    assert online.bound_source == "greedy online bound" and online.bound == 250.0
    # The Lagrangian relaxation meets B + D on its way to the LP bound: proved optimal without HiGHS.
    fast = max_cover(cand, w, 2, covered=covered, method="greedy")
    assert fast.method == "Lagrangian heuristic" and fast.sites.tolist() == [1, 3]
    assert fast.status == "optimal" and fast.bound == pytest.approx(240.0) and fast.solve_time_s == 0.0
    # With 4 sites B, C, D cover everything (A adds nothing and is not proposed). They are
    # listed by marginal gain, so the first two of this list are not the best pair.
    four = max_cover(cand, w, 4, covered=covered)
    assert four.sites.tolist() == [2, 1, 3] and four.gain.tolist() == [130.0, 60.0, 60.0]


def test_lscp_reports_uncoverable_demand():
    cand = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0]], dtype=bool)
    res = set_cover(cand, [5.0, 6.0, 7.0, 0.0], covered=[False, False, False, False])
    assert res.sites.tolist() == [2] and res.objective == 1.0
    assert res.uncoverable.tolist() == [2] and res.uncoverable_weight == 7.0  # point 3 has no residents


def test_capacitated_toy_by_hand():
    # Existing clinic E (room for 100) reaches d0 (80 residents) and d1 (60): it serves 100 of 140.
    # Candidate C0 reaches d1 and d2 (50); C1 reaches d2 and d3 (30); each has room for 100.
    w = np.array([80.0, 60.0, 50.0, 30.0])
    existing = np.array([[1, 1, 0, 0]], dtype=bool)
    cand = np.array([[0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool)
    # Uncapacitated MCLP takes C1 (d2 + d3 = 80 uncovered residents > C0's 50) ...
    assert max_cover(cand, w, 1, covered=existing[0]).sites.tolist() == [1]
    # ... but with capacity, C0 also relieves E: E serves d0 + 20 of d1, C0 the other 40 + d2's 50,
    # 190 served, against 100 + 80 = 180 with C1.
    res = capacitated_max_cover(cand, w, 1, existing_cover=existing, capacity=100.0)
    assert res.sites.tolist() == [0] and res.status == "optimal"
    assert res.covered_before == 100.0 and res.covered_after.tolist() == [190.0]
    assert res.gain.tolist() == [90.0] and res.unserved_weight == 30.0
    assert res.existing_load_before.tolist() == [100.0] and res.existing_load_after.tolist() == [100.0]
    assert res.site_load.tolist() == [90.0]
    # The capacity-aware greedy sees it too (C0 serves 90 more, C1 80).
    greedy = capacitated_max_cover(cand, w, 1, existing_cover=existing, capacity=100.0, method="greedy")
    assert greedy.sites.tolist() == [0] and greedy.covered_after.tolist() == [190.0]
    assert greedy.bound >= 90.0
    # Fractional residents take the LP path instead of the integer maximum flow: same answer.
    frac = capacitated_max_cover(cand, w + 0.25, 1, existing_cover=existing, capacity=100.0)
    assert frac.sites.tolist() == [0] and frac.covered_after == pytest.approx([80.25 + 60.25 + 50.25])


def test_capacitated_too_large_programme_falls_back_to_greedy_and_says_so():
    w = np.array([80.0, 60.0, 50.0, 30.0])
    existing = np.array([[1, 1, 0, 0]], dtype=bool)
    cand = np.array([[0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool)
    res = capacitated_max_cover(cand, w, 1, existing_cover=existing, capacity=100.0, max_programme_pairs=3)
    assert res.status == "too large" and res.method == "greedy" and res.sites.tolist() == [0]
    # Greedy's online bound: C0's first bound is its capacity, 100 (its true gain is 90).
    assert res.bound_source == "greedy online bound" and res.bound == 100.0 and res.gap == pytest.approx(0.1)


def test_capacitated_splits_a_demand_point_between_sites():
    # One block of 150 residents reached by two candidates with room for 100 each.
    res = capacitated_max_cover(np.array([[1], [1]], dtype=bool), [150.0], 2, capacity=100.0)
    assert res.covered_after[-1] == 150.0 and sorted(res.site_load.tolist()) == [50.0, 100.0]


def _served_by_max_flow(sites_cover, w, cap):
    g = nx.DiGraph()
    for i, wi in enumerate(w):
        g.add_edge("s", ("d", i), capacity=float(wi))
    for j, row in enumerate(sites_cover):
        g.add_edge(("f", j), "t", capacity=float(cap[j]))
        for i in np.flatnonzero(row):
            g.add_edge(("d", i), ("f", j))
    return nx.maximum_flow_value(g, "s", "t") if sites_cover.shape[0] else 0.0


@pytest.mark.parametrize("fractional", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_capacitated_equals_brute_force_max_flow(seed, fractional):
    c, e, w = random_instance(seed, n_cand=7, n_exist=2, n_demand=25, density=0.25)
    rng = np.random.default_rng(seed)
    cap_c = rng.uniform(300, 1500, c.shape[0]).round()
    cap_e = rng.uniform(300, 1500, e.shape[0]).round()
    if fractional:  # residents estimated, not counted: the LP path
        w = w + rng.uniform(0, 1, w.size).round(2)
    k = 2
    res = capacitated_max_cover(c, w, k, existing_cover=e, capacity=cap_c, existing_capacity=cap_e)
    before = _served_by_max_flow(e, w, cap_e)
    served = {
        combo: _served_by_max_flow(np.vstack([e, c[list(combo)]]), w, np.r_[cap_e, cap_c[list(combo)]])
        for combo in itertools.combinations(range(c.shape[0]), k)
    }
    best = max(served.values())
    assert res.covered_before == pytest.approx(before, abs=1e-6)
    total = res.covered_after[-1] if res.sites.size else res.covered_before
    assert total == pytest.approx(best, abs=1e-6) and res.status == "optimal"
    assert np.all(res.site_load <= cap_c[res.sites] + 1e-6)
    assert np.all(res.existing_load_after <= cap_e + 1e-6)
    assert res.site_load.sum() + res.existing_load_after.sum() == pytest.approx(total)
    greedy = capacitated_max_cover(
        c, w, k, existing_cover=e, capacity=cap_c, existing_capacity=cap_e, method="greedy"
    )
    g_total = greedy.covered_after[-1] if greedy.sites.size else greedy.covered_before
    assert g_total - before >= ONE_MINUS_1_OVER_E * (best - before) - 1e-6
    assert greedy.bound >= best - before - 1e-6


def test_bad_options_are_clear_errors():
    c = np.eye(3, dtype=bool)
    with pytest.raises(InputError, match="whole number >= 1"):
        max_cover(c, None, 0)
    with pytest.raises(InputError, match="method"):
        max_cover(c, None, 1, method="annealing")
    with pytest.raises(InputError, match="solver_time_limit_s"):
        set_cover(c, solver_time_limit_s=0)
    with pytest.raises(InputError, match="one value per demand point"):
        max_cover(c, [1.0, 2.0], 1)
    with pytest.raises(InputError, match="existing_capacity"):
        capacitated_max_cover(c, None, 1, existing_cover=c, capacity=[1.0, 2.0, 3.0])


def test_nothing_to_cover():
    res = max_cover(np.zeros((3, 4), dtype=bool), [1.0, 2.0, 3.0, 4.0], 2)
    assert res.sites.size == 0 and res.status == "optimal" and res.uncoverable_weight == 10.0
    assert set_cover(np.ones((2, 2), dtype=bool), covered=[True, True]).objective == 0.0
