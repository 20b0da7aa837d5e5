"""Partition a plain unit graph into balanced, contiguous parts (benchmarks, users' graphs).

``partition(graph, parts=..., balance=...)`` takes a :class:`networkx.Graph` (read
from a file by the CLI or by :func:`territory_engine.problem.graph.read_graph`) and
returns a :class:`PartitionResult`.
"""

from territory_engine.partition.distances import part_diameters, shortest_path_matrix
from territory_engine.partition.result import PartitionResult
from territory_engine.partition.run import partition

__all__ = ["PartitionResult", "part_diameters", "partition", "shortest_path_matrix"]
