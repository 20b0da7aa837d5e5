"""Hardening tests of issue 15: broken inputs, killed runs, concurrent writers, a real cluster."""
