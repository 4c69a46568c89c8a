"""Distance-decay weights for the floating catchment: Luo & Qi's steps, or a Gaussian.

Both weigh a travel time ``t`` (minutes) and give 0 beyond the catchment threshold.
They follow PySAL ``access``'s conventions so that scores agree with it like for like:

- :class:`SteppedWeights` is ``access.weights.step_fn``: a time exactly on a band edge
  takes the nearer band's weight (5.0 min weighs 1.00, not 0.68), the same rule as
  circles' bands (15.0 min is "10-15");
- :class:`GaussianWeights` is ``access.weights.gaussian``: ``exp(-t**2 / (2 sigma**2))``,
  1 at 0 minutes, not normalised, cut at the threshold (``access``'s ``max_cost``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError

#: Luo & Qi (2009)'s enhanced 2SFCA steps, scaled to a 15-minute catchment.
LUO_QI_BANDS_MIN = (5.0, 10.0, 15.0)
LUO_QI_WEIGHTS = (1.0, 0.68, 0.22)


@dataclass(frozen=True)
class SteppedWeights:
    """One weight per travel-time band; 0 beyond the last band.

    Parameters
    ----------
    bands_min : tuple of float
        Upper edges of the bands in minutes, ascending; the last is the threshold.
    weights : tuple of float
        Weight of each band, >= 0.
    """

    bands_min: tuple[float, ...] = LUO_QI_BANDS_MIN
    weights: tuple[float, ...] = LUO_QI_WEIGHTS

    def __post_init__(self) -> None:
        bands = np.asarray(self.bands_min, dtype=float)
        w = np.asarray(self.weights, dtype=float)
        if bands.size == 0 or bands.size != w.size:
            raise InputError(
                "stepped weights need one of `weights` per `bands_min`; "
                f"got {bands.size} bands and {w.size} weights",
                parameter="weights",
            )
        if not (np.all(np.isfinite(bands)) and bands[0] > 0 and np.all(np.diff(bands) > 0)):
            raise InputError(
                f"band edges (`bands_min`) must be positive and ascending minutes, got {self.bands_min}",
                parameter="bands_min",
            )
        if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
            raise InputError(
                f"band `weights` must be finite and >= 0, got {self.weights}", parameter="weights"
            )

    @property
    def threshold_min(self) -> float:
        """The catchment threshold: the last band edge."""
        return float(self.bands_min[-1])

    def __call__(self, time_min: ArrayLike) -> NDArray[np.float64]:
        """Weight of each travel time (vectorised ``access.weights.step_fn``)."""
        t = np.asarray(time_min, dtype=float)
        band = np.searchsorted(np.asarray(self.bands_min, dtype=float), t, side="left")
        w = np.append(np.asarray(self.weights, dtype=float), 0.0)
        return w[np.where(np.isnan(t), len(self.weights), band)]


@dataclass(frozen=True)
class GaussianWeights:
    """Gaussian decay ``exp(-t**2 / (2 sigma_min**2))`` within ``threshold_min``, 0 beyond.

    Parameters
    ----------
    threshold_min : float
        Catchment threshold in minutes.
    sigma_min : float, optional
        Width in minutes; by default half the threshold (weight 0.61 at 7.5 min and
        0.14 at 15 min for a 15-minute catchment).
    """

    threshold_min: float = 15.0
    sigma_min: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.threshold_min) and self.threshold_min > 0):
            raise InputError(
                f"`threshold_min` must be positive minutes, got {self.threshold_min}",
                parameter="threshold_min",
            )
        if self.sigma_min is not None and not (np.isfinite(self.sigma_min) and self.sigma_min > 0):
            raise InputError(
                f"the Gaussian width (`sigma_min`) must be positive minutes, got {self.sigma_min}",
                parameter="sigma_min",
            )

    @property
    def sigma(self) -> float:
        """The width in minutes actually used."""
        return float(self.sigma_min) if self.sigma_min is not None else self.threshold_min / 2.0

    def __call__(self, time_min: ArrayLike) -> NDArray[np.float64]:
        """Weight of each travel time."""
        t = np.asarray(time_min, dtype=float)
        w = np.exp(-t * t / (2.0 * self.sigma**2))
        return np.where(t <= self.threshold_min, w, 0.0)


def decay_weights(
    kind: str, threshold_min: float = 15.0, **options: float
) -> SteppedWeights | GaussianWeights:
    """The weights named ``kind`` (``"stepped"`` or ``"gaussian"``) for a catchment threshold.

    ``"stepped"`` scales Luo & Qi's three bands to the threshold (thirds of it) unless
    ``bands_min``/``weights`` are given; ``"gaussian"`` takes ``sigma_min``.

    Parameters
    ----------
    kind : str
        ``"stepped"`` or ``"gaussian"``.
    threshold_min : float
        The catchment threshold in minutes: the default steps are its thirds and the
        Gaussian weighs nothing beyond it; unused when ``bands_min``/``weights`` are given.
    **options : float or sequence of float
        ``bands_min`` (upper ends of the steps, in minutes) and ``weights`` (one per step,
        unitless) for ``"stepped"``; ``sigma_min`` (the Gaussian's width in minutes, half
        the threshold when absent) for ``"gaussian"``. Others are ignored.
    """
    if kind == "stepped":
        if "bands_min" in options or "weights" in options:
            return SteppedWeights(
                tuple(options.get("bands_min", LUO_QI_BANDS_MIN)),
                tuple(options.get("weights", LUO_QI_WEIGHTS)),
            )
        scale = threshold_min / LUO_QI_BANDS_MIN[-1]
        return SteppedWeights(tuple(b * scale for b in LUO_QI_BANDS_MIN), LUO_QI_WEIGHTS)
    if kind == "gaussian":
        return GaussianWeights(threshold_min, options.get("sigma_min"))
    raise InputError(
        f"unknown distance decay {kind!r}",
        parameter="access_decay",
        fix="use `access_decay` 'stepped' or 'gaussian'",
    )
