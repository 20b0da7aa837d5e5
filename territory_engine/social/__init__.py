"""The relationship graph: reps, accounts, and the ties between them.

``graph`` turns the checked edge table into sparse matrices (and a networkx
graph for exploration); ``proximity`` scores how close each rep is to each
account through that graph.
"""

from territory_engine.social.graph import RelationshipMatrices, relationship_graph, tie_matrices
from territory_engine.social.proximity import Proximity, proximity

__all__ = ["Proximity", "RelationshipMatrices", "proximity", "relationship_graph", "tie_matrices"]
