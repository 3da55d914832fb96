"""What drives load and measures it: the read, report, export, mixed-load and fault benchmarks."""
