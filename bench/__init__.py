"""Benchmarks: measurements of the platform at the scale DESIGN.md promises (see README.md).

Not an installed app of the product: only ``bench.settings`` installs it, so ``make bench``
can run ``manage.py bench_sweep`` against a database of its own.
"""
