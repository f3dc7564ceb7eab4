"""Load and soak: the Locust mix (load/locustfile.py) and scripts/soak.py, run for real."""
