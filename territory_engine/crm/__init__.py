"""The plan and the CRM: new accounts routed by the plan's rules, changes written back.

- :func:`~territory_engine.crm.route.route_new_accounts`: the owner of each account
  that arrives during the year, by the published plan's rules, and the balance
  drift they cause (:func:`~territory_engine.crm.route.balance_drift`);
- :func:`~territory_engine.crm.export.export_plan`: the ownership changes against
  last year for Salesforce Data Loader (``Id, OwnerId``) or as a generic CSV, and
  the territory hierarchy.
"""

from territory_engine.crm.export import (
    EXPORT_FORMATS,
    ExportResult,
    export_plan,
    owner_changes,
    territory_hierarchy,
)
from territory_engine.crm.route import (
    ROUTE_RULES,
    RoutingResult,
    balance_drift,
    route_new_accounts,
)

__all__ = [
    "EXPORT_FORMATS",
    "ROUTE_RULES",
    "ExportResult",
    "RoutingResult",
    "balance_drift",
    "export_plan",
    "owner_changes",
    "route_new_accounts",
    "territory_hierarchy",
]
