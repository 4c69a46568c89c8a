"""One linear or integer programme solved by HiGHS (``highspy``), silently, with a time limit.

``highspy`` is imported only here and only when a programme is solved, so importing
circles does not load the solver.

``highspy.Highs()`` installs its Python callback router in its constructor, and HiGHS
writes its banner to the C-level stdout when a callback is set while the
``output_flag`` option is still on (highspy 1.16); no option can be set before the
constructor runs. A library must not print, so the solver is created from the
compiled class that ``highspy.Highs`` extends, with ``output_flag`` off before
anything else (callbacks are not used here).

No MIP start is passed to HiGHS. With highspy 1.16, a feasible but suboptimal start
(full or only the integer columns, via ``setSolution``) on the capacitated model was
mapped into presolve's reduced space with the wrong objective (180 became 220) and
returned as "optimal" with the start's columns; with presolve off it solved
correctly. The callers keep their greedy answer themselves and take HiGHS's only
when it is better, recomputing every objective from the returned columns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import scipy.sparse as sp

#: Status words used in results (HiGHS model status -> circles).
_STATUS = {
    "kOptimal": "optimal",
    "kTimeLimit": "time limit",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible or unbounded",
    "kModelEmpty": "optimal",
    "kInterrupt": "interrupted",
    "kMemoryLimit": "memory limit",
}


@dataclass(frozen=True, eq=False)
class Solution:
    """What HiGHS returned.

    Attributes
    ----------
    x : ndarray or None
        Column values of the best feasible solution found; None when there is none.
    objective : float
        Its objective value (NaN without a solution).
    bound : float
        The proved bound on the optimum: HiGHS's MIP dual bound for an integer
        programme, the objective of an LP solved to optimality; NaN when unknown.
    status : str
        ``"optimal"``, ``"time limit"``, ``"infeasible"``, ...
    time_s : float
        Wall time of the solve.
    """

    x: NDArray[np.float64] | None
    objective: float
    bound: float
    status: str
    time_s: float


def new_highs(time_limit_s: float, mip_rel_gap: float = 0.0):
    """A HiGHS instance that prints nothing, with a time limit and a relative MIP gap.

    Parameters
    ----------
    time_limit_s : float
        HiGHS's ``time_limit`` option, in seconds.
    mip_rel_gap : float
        HiGHS's ``mip_rel_gap`` option: the relative MIP gap (a fraction; 0 asks for a proved optimum).
    """
    from highspy import _core

    h = _core._Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    return h


def solve(
    cost: NDArray[np.float64],
    a: sp.spmatrix,
    row_bounds: tuple[NDArray[np.float64], NDArray[np.float64]],
    col_bounds: tuple[NDArray[np.float64], NDArray[np.float64]],
    *,
    integer: NDArray[np.bool_] | None = None,
    maximize: bool = False,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 0.0,
    presolve: bool = True,
) -> Solution:
    """Solve ``opt cost @ x`` s.t. ``row_lo <= a @ x <= row_hi``, ``col_lo <= x <= col_hi``.

    Parameters
    ----------
    cost : ndarray, shape (n_cols,)
    a : sparse matrix, shape (n_rows, n_cols)
    row_bounds : (ndarray, ndarray)
        Lower and upper bound of each row of ``a @ x``; +-inf for none.
    col_bounds : (ndarray, ndarray)
        Lower and upper bound of each column; +-inf for none.
    integer : ndarray of bool, optional
        Integer columns; an LP without it.
    maximize : bool
    time_limit_s : float
        HiGHS's ``time_limit`` (the solve only, not building the model).
    mip_rel_gap : float
        HiGHS's ``mip_rel_gap``: 0 asks for a proved optimum (to its absolute gap 1e-6).
    presolve : bool
        HiGHS's presolve. The covering programmes turn it off: on a 20,000-point MCLP
        (``bench/siting.py``) presolve's probing ran 87 s past a 60 s limit without
        a solution, while without presolve the programme was solved to optimality in 28 s.

    Returns
    -------
    Solution
    """
    prog = Program(cost, a, row_bounds, col_bounds, integer=integer, maximize=maximize)
    if not presolve:
        prog.highs.setOptionValue("presolve", "off")
    return prog.run(time_limit_s, mip_rel_gap)


class Program:
    """A programme loaded into one silent HiGHS instance (arguments as in :func:`solve`).

    Re-running it after :meth:`set_col_bounds` starts the simplex from the previous
    basis: how the capacitated model's assignment LPs are re-solved cheaply.

    Parameters
    ----------
    cost : ndarray, shape (n_cols,)
        Objective coefficient of each column.
    a : sparse matrix, shape (n_rows, n_cols)
        The constraint matrix.
    row_bounds : (ndarray, ndarray)
        Lower and upper bound of each row of ``a @ x``; +-inf for none.
    col_bounds : (ndarray, ndarray)
        Lower and upper bound of each column; +-inf for none.
    integer : ndarray of bool, optional
        Integer columns; an LP without it (or when none is set).
    maximize : bool
        Maximise the objective instead of minimising it.
    """

    def __init__(self, cost, a, row_bounds, col_bounds, *, integer=None, maximize=False) -> None:
        self.is_mip = integer is not None and bool(np.any(integer))
        self.highs = _load(cost, a, row_bounds, col_bounds, integer if self.is_mip else None, maximize)

    def set_col_bounds(self, cols: NDArray[np.int64], lower: NDArray, upper: NDArray) -> None:
        """Change the bounds of some columns.

        Parameters
        ----------
        cols : ndarray of int64
            Indices of the columns to change.
        lower : ndarray
            Their new lower bounds, in the same order (-inf for none).
        upper : ndarray
            Their new upper bounds, in the same order (+inf for none).
        """
        cols = np.asarray(cols, dtype=np.int32)
        self.highs.changeColsBounds(
            cols.size, cols, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
        )

    def run(self, time_limit_s: float, mip_rel_gap: float = 0.0) -> Solution:
        """Solve (again) within ``time_limit_s`` seconds.

        Parameters
        ----------
        time_limit_s : float
            Time limit of this solve in seconds (added to the instance's run time so far).
        mip_rel_gap : float
            HiGHS's ``mip_rel_gap``: the relative MIP gap (a fraction; 0 asks for a proved optimum).

        Returns
        -------
        Solution
        """
        h = self.highs
        # HiGHS measures ``time_limit`` against the instance's cumulative run time.
        h.setOptionValue("time_limit", h.getRunTime() + float(time_limit_s))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        t0 = time.perf_counter()
        h.run()
        return _result(h, self.is_mip, time.perf_counter() - t0)


def _load(cost, a, row_bounds, col_bounds, integer, maximize):
    import highspy

    csc = a.tocsc()
    csc.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_, lp.col_upper_ = (np.asarray(b, dtype=np.float64) for b in col_bounds)
    lp.row_lower_, lp.row_upper_ = (np.asarray(b, dtype=np.float64) for b in row_bounds)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    if integer is not None:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(v)] for v in integer]
    h = new_highs(60.0)
    h.passModel(lp)
    return h


def _result(h, is_mip: bool, elapsed: float) -> Solution:
    status = _STATUS.get(h.getModelStatus().name, h.modelStatusToString(h.getModelStatus()).lower())
    info = h.getInfo()
    feasible = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if feasible else None
    objective = float(info.objective_function_value) if feasible else float("nan")
    if is_mip:
        bound = float(info.mip_dual_bound)
        bound = bound if np.isfinite(bound) else float("nan")
    else:
        bound = objective if status == "optimal" else float("nan")
    return Solution(x, objective, bound, status, elapsed)
