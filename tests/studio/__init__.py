"""Tests of the Territory Studio (territory_engine/studio)."""
