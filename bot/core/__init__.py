"""The pure domain: catalog, detection, baselines, summaries, verdicts, argument parsing.

No I/O, no clock reads (every function takes `now`), no `telegram`: property-tested as is.
"""
