"""Geography: distances, adjacency."""

from territory_engine.geo.adjacency import join_islands, polygon_adjacency
from territory_engine.geo.distance import distance_matrix_km, haversine_km

__all__ = ["distance_matrix_km", "haversine_km", "join_islands", "polygon_adjacency"]
