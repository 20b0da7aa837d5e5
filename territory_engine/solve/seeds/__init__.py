"""Starting plans: the balanced transportation LP, the power diagram, recursive bisection,
spanning-tree partitions, and the choice of free centres.

Which one a solve takes is decided in :mod:`territory_engine.solve.align`.
"""
