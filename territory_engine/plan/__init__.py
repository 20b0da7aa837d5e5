"""The plan and its folder: the model, the file contract, the one writer and the one reader.

Scoring a folder (:mod:`territory_engine.plan.score`) and comparing two plans
(:mod:`territory_engine.plan.compare`) live beside them; they are imported from their
modules (or from :mod:`territory_engine`) because they need the whole engine.
"""

from territory_engine.plan.atomic import write_folder_atomically, write_text_atomically
from territory_engine.plan.files import (
    MANIFEST,
    PLAN_FILES,
    REQUIRED_FILES,
    TERRITORY_PREFIX,
    territory_id_for_rep,
    territory_ids_for_reps,
)
from territory_engine.plan.model import ASSIGNMENT_COLUMNS, Plan, assignments_frame
from territory_engine.plan.reader import PlanFolder, read_json, read_plan_csv, read_plan_folder

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "MANIFEST",
    "PLAN_FILES",
    "REQUIRED_FILES",
    "TERRITORY_PREFIX",
    "Plan",
    "PlanFolder",
    "assignments_frame",
    "read_json",
    "read_plan_csv",
    "read_plan_folder",
    "territory_id_for_rep",
    "territory_ids_for_reps",
    "write_folder_atomically",
    "write_text_atomically",
]
