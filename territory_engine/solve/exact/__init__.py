"""Exact models (CP-SAT): whole instances where they fit, and regions re-solved by the
large-neighbourhood search (repair and improvement).
"""
