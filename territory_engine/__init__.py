"""territory_engine: sales territory design and quota optimisation."""

__version__ = "0.1.0"
