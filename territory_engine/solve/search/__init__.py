"""Improving a plan: unit-move local search (with its compiled descent kernel), regional
re-draws, contiguity repair, boundary annealing and the diameter tabu search.
"""
