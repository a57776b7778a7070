"""Kernel microbenchmarks: Ember's raw kernels against the library a user would otherwise call.

Run ``python -m benchmarks.run --device cpu`` (or ``cuda``). Each ``bench_<family>.py`` module
exposes ``cases(device) -> list[Case]``; see ``benchmarks/common.py`` for the interface.
"""
