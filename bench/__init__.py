"""Benchmarks of the pipeline, the wall and the worker's memory (``make bench``).

Not part of the production packages nor of ``make test``: ``python -m bench [--quick]`` starts
nothing but what it measures, in its own database and topics, and writes
``bench/results/latest.json`` and ``docs/benchmarks.md``.  The pure computations (percentiles,
rates, ratios, lag verdicts) live in ``bench.calc`` and are unit-tested in ``tests/bench``.
"""
