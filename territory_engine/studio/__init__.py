"""Territory Studio: the served web application around the engine's plans.

Planners, managers and reps sign in; each sees the plans, territories and reps of
their role and scope (:mod:`.access`), plan versions move through a workflow
(:mod:`.workflow`) and every action lands in an append-only audit log
(:mod:`.audit`). The studio never scores or solves a plan itself: it reads the plan
store and plan folders the engine wrote. Start it with ``territory-engine serve``.
"""

from territory_engine.studio.auth import Policy
from territory_engine.studio.server import create_app

__all__ = ["Policy", "create_app"]
