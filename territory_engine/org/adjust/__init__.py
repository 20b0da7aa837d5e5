"""Mid-year changes and what-ifs against the plan they change.

* :mod:`~territory_engine.org.adjust.warm`: the owners of a plan per problem
  unit and the solver's warm start from a plan (``whatif.base_plan``,
  ``run --from-plan``);
* :mod:`~territory_engine.org.adjust.changes`: the changes (a rep leaves, a
  hire, units handed over) as the ``adjust`` command writes them;
* :mod:`~territory_engine.org.adjust.prorate`: quotas pro-rated from the
  effective date, exact to the cent, explained;
* :mod:`~territory_engine.org.adjust.run`: :func:`adjust_plan`, the whole change:
  re-draw only what must change, write the new plan folder, record the version.

Import the submodules; this package re-exports nothing so that the pipeline can
import :mod:`~territory_engine.org.adjust.warm` alone.
"""
