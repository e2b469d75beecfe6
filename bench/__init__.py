"""siemhub's delivery benchmark (``scripts/bench.sh``): throughput, latency, memory. See __main__."""
