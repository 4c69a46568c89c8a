"""The numeric core of the planning answers: capacity, competition and new sites.

Every function here takes arrays and sparse matrices (spopt's ``from_cost_matrix``
pattern) and knows nothing about GeoDataFrames, networks or files:

- :mod:`circles.planning.traveltimes`: a sparse home-by-facility travel-time matrix
  that keeps 0-minute pairs (a home next door to its clinic);
- :mod:`circles.planning.decay`: distance-decay weights (Luo & Qi's steps, Gaussian);
- :mod:`circles.planning.capacity`: per-facility loads against targets, and the
  enhanced two-step floating catchment (E2SFCA) score per home;
- :mod:`circles.planning.covering`: maximal covering (MCLP) with existing facilities
  kept, and location set covering (LSCP), exact with HiGHS or greedy with a bound;
- :mod:`circles.planning.capacitated`: maximal covering in which no site serves more
  than a resident target.

Nothing heavy is imported here: ``import circles.planning`` stays cheap, and HiGHS
(``highspy``) is loaded only when a programme is solved.
"""
