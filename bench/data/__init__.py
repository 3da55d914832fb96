"""Data set builders: the simulated members and histories the benchmarks read and import."""
