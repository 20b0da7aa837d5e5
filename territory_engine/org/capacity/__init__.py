"""How many reps a target needs: the plan solved at each headcount, and a recommendation.

:func:`plan_capacity` solves the scenario at each headcount of a range (on Dask, with
the sweep's machinery), reports per headcount the capacity numbers of
:mod:`~territory_engine.org.capacity.measures` and recommends the smallest headcount
whose expected share of reps at quota is in the target band. Which reps are cut or
hired at each headcount is decided by the rules of
:mod:`~territory_engine.org.capacity.headcount`.
"""

from territory_engine.org.capacity.measures import CapacitySettings, Recommendation
from territory_engine.org.capacity.run import CapacityResult, plan_capacity

__all__ = ["CapacityResult", "CapacitySettings", "Recommendation", "plan_capacity"]
