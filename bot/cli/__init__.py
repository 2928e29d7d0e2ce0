"""The `outagebot` command line: run, console, ask, import, replay, migrate-data, sources check."""
