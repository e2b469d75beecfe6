#!/usr/bin/env bash
# The delivery benchmark (not a test): starts a throwaway PostgreSQL and Redis on loopback, then
# gunicorn, ONE Celery worker and a fast local HEC receiver, and measures (a) sustained events/s
# from ingest to delivery, (b) POST-to-arrival latency at a steady 200 events/s, (c) the worker's
# peak RSS while draining a 1,000,000-event backlog. Prints a table, writes bench/results.json.
#
#   scripts/bench.sh              # full run (several minutes)
#   scripts/bench.sh --quick      # smaller sizes, a smoke run
#   scripts/bench.sh --profile    # also sample the worker and gunicorn with py-spy
#   scripts/bench.sh --help       # every option
source "$(dirname "$0")/lib.sh"
ensure_apt redis-server postgresql
ensure_venv
for arg in "$@"; do
  if [ "$arg" = "--profile" ] && [ ! -x .venv/bin/py-spy ]; then
    .venv/bin/pip install -q --disable-pip-version-check py-spy
  fi
done
trap services_stop EXIT
services_start
.venv/bin/python -m bench "$@"
