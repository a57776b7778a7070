"""Runnable examples that reproduce the course notes' models on real data.

Run one with ``python -m ember.examples.<name> [--device cpu|cuda] [--epochs N] [--seed S]``
(or ``python examples/<name>.py`` from a clone). Each prints its final metric and saves plots
under ``runs/<name>/``.
"""
