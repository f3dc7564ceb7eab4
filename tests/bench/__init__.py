"""The benchmarks run end to end in their short mode: figures printed, no thresholds."""
