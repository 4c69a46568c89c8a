"""A sparse home-by-facility travel-time matrix that keeps 0-minute pairs.

Only the pairs within reach are stored (a home and a clinic beyond the threshold are
simply absent), so 500,000 homes x 1,000 clinics with a few dozen clinics in reach
of each home take a few hundred megabytes instead of the 4 GB of a dense matrix.

A ``scipy.sparse`` matrix cannot be trusted to hold the pairs itself: its absent
entries read as 0, and several of its operations (arithmetic, ``eliminate_zeros``,
some conversions) silently drop stored zeros, so a home whose walk to a clinic is
0 minutes (the clinic is in its building) would vanish from the clinic's catchment.
:class:`TravelTimes` therefore keeps the structure (which pairs exist: CSR
``indptr`` and ``facility``) apart from the values (``time_min``), and only builds
``scipy.sparse`` matrices of *derived* values (weights, a coverage mask) from that
structure, where an explicit zero is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError

if TYPE_CHECKING:  # scipy.sparse is imported when a matrix is built
    import scipy.sparse as sp


@dataclass(frozen=True, eq=False)
class TravelTimes:
    """Travel times of the home-facility pairs within reach, in CSR layout by home.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_homes + 1,)
        Home ``i``'s pairs are entries ``indptr[i]:indptr[i + 1]``.
    facility : ndarray of int32
        Facility of each pair, ascending within a home.
    time_min : ndarray of float64
        Travel time of each pair in minutes (0 allowed).
    n_facilities : int
        Number of facilities (columns).
    """

    indptr: NDArray[np.int64]
    facility: NDArray[np.int32]
    time_min: NDArray[np.float64]
    n_facilities: int

    @classmethod
    def from_pairs(
        cls,
        home: ArrayLike,
        facility: ArrayLike,
        time_min: ArrayLike,
        *,
        n_homes: int,
        n_facilities: int,
    ) -> TravelTimes:
        """Build from one entry per (home, facility) pair within reach.

        Parameters
        ----------
        home, facility : array_like of int
            Home and facility index of each pair.
        time_min : array_like of float
            Travel time of each pair in minutes, finite and >= 0.
        n_homes, n_facilities : int
            Matrix shape (homes or facilities with no pair are allowed).

        Returns
        -------
        TravelTimes

        Raises
        ------
        InputError
            On indices out of range, negative or non-finite times, or a pair given twice.
        """
        home = np.asarray(home, dtype=np.int64).ravel()
        fac = np.asarray(facility, dtype=np.int64).ravel()
        t = np.asarray(time_min, dtype=np.float64).ravel()
        if not home.size == fac.size == t.size:
            raise InputError(
                f"travel-time pairs need one home, facility and time each; got {home.size}, "
                f"{fac.size} and {t.size}"
            )
        _check_index(home, n_homes, "home")
        _check_index(fac, n_facilities, "facility")
        bad = ~np.isfinite(t) | (t < 0)
        if bad.any():
            raise InputError(
                f"travel times must be finite and >= 0 minutes; pair {int(np.argmax(bad))} has {t[bad][0]}",
                fix="leave pairs beyond reach out instead of giving them an infinite time",
            )
        order = np.lexsort((fac, home))
        home, fac, t = home[order], fac[order], t[order]
        dup = (home[1:] == home[:-1]) & (fac[1:] == fac[:-1])
        if dup.any():
            k = int(np.argmax(dup))
            raise InputError(f"home {home[k]} and facility {fac[k]} are given twice in the travel times")
        indptr = np.zeros(n_homes + 1, dtype=np.int64)
        np.cumsum(np.bincount(home, minlength=n_homes), out=indptr[1:])
        return cls(indptr, fac.astype(np.int32), t, int(n_facilities))

    @classmethod
    def from_dense(cls, time_min: ArrayLike, *, max_time_min: float = np.inf) -> TravelTimes:
        """Build from a dense (homes x facilities) array; NaN or inf means out of reach.

        Meant for small inputs and tests; pairs slower than ``max_time_min`` are dropped.

        Parameters
        ----------
        time_min : array_like, shape (n_homes, n_facilities)
            Travel time in minutes from each home to each facility; NaN or inf for out of reach.
        max_time_min : float
            Longest travel time kept, in minutes (all finite times by default).
        """
        m = np.asarray(time_min, dtype=np.float64)
        if m.ndim != 2:
            raise InputError(f"a dense travel-time matrix must be 2-D, got shape {m.shape}")
        home, fac = np.nonzero(np.isfinite(m) & (m <= max_time_min))
        return cls.from_pairs(home, fac, m[home, fac], n_homes=m.shape[0], n_facilities=m.shape[1])

    @property
    def n_homes(self) -> int:
        """Number of homes (rows)."""
        return self.indptr.size - 1

    @property
    def n_pairs(self) -> int:
        """Number of stored pairs (zero times included)."""
        return self.time_min.size

    def home(self) -> NDArray[np.int64]:
        """Home index of each pair (expands ``indptr``)."""
        return np.repeat(np.arange(self.n_homes, dtype=np.int64), np.diff(self.indptr))

    def within(self, threshold_min: float) -> TravelTimes:
        """The pairs with a time of at most ``threshold_min`` (a 0-minute pair is kept).

        Parameters
        ----------
        threshold_min : float
            Longest travel time kept, in minutes.
        """
        keep = self.time_min <= threshold_min
        counts = np.bincount(self.home()[keep], minlength=self.n_homes)
        indptr = np.zeros(self.n_homes + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return TravelTimes(indptr, self.facility[keep], self.time_min[keep], self.n_facilities)

    def matrix(self, values: NDArray[np.float64]) -> sp.csr_matrix:
        """A (homes x facilities) CSR matrix with one derived value per stored pair.

        Parameters
        ----------
        values : ndarray of float, shape (n_pairs,)
            E.g. decay weights of ``time_min``; zeros are fine here (they contribute nothing).
        """
        import scipy.sparse as sp

        values = np.asarray(values, dtype=np.float64)
        if values.shape != self.time_min.shape:
            raise InputError(f"need one value per pair ({self.n_pairs}), got {values.shape}")
        return sp.csr_matrix(
            (values, self.facility, self.indptr), shape=(self.n_homes, self.n_facilities), copy=False
        )

    def coverage(self, threshold_min: float) -> sp.csr_matrix:
        """Boolean (facilities x homes) matrix: which facility reaches which home in time.

        The orientation of the covering solvers (:mod:`circles.planning.covering`).

        Parameters
        ----------
        threshold_min : float
            Longest travel time that counts as reaching, in minutes.
        """
        w = self.within(threshold_min)
        return w.matrix(np.ones(w.n_pairs)).astype(bool).T.tocsr()


def _check_index(idx: NDArray[np.int64], n: int, what: str) -> None:
    if n < 0:
        raise InputError(f"number of {what}s must be >= 0, got {n}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise InputError(f"{what} index out of range: must be in 0..{n - 1}, got {idx.min()}..{idx.max()}")
