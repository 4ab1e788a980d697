"""Benchmarks of the agent, the HQ, MOF sync and usage ingest, each against a floor measured in
the same run. Run `python -m bench` (or `bench/run`); `--smoke` for the tiny CI version."""
