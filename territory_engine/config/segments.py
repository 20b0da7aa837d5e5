"""The segments an account or a rep may belong to: the one definition.

The loaders check the ``segment`` column of accounts and reps against it, and a
what-if's new rep must name one of them. (The sample's generator,
``data/build_sample.py``, writes these segments; it runs without the package.)
"""

SEGMENTS = ("enterprise", "commercial", "smb")
"""Segments an account or a rep may belong to, in display order."""

__all__ = ["SEGMENTS"]
