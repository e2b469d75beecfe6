#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (Debian packages, venv, pins),
# starts a throwaway PostgreSQL and Redis on loopback, runs every test (real Celery workers,
# rsyslog and Chromium included) on Postgres, then the engine and API again on the embedded
# default (SQLite), and stops the services. Extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
ensure_apt redis-server postgresql rsyslog rsyslog-openssl chromium
ensure_venv
trap services_stop EXIT
services_start
export DJANGO_ALLOW_ASYNC_UNSAFE=true SIEMHUB_TEST_ARTIFACTS="$ROOT/test-artifacts"
echo "== full suite on PostgreSQL + Redis" >&2
.venv/bin/python -m pytest -n 2 -q "$@"
echo "== engine and API on the embedded default (SQLite)" >&2
env -u DATABASE_URL -u CELERY_BROKER_URL .venv/bin/python -m pytest -n 2 -q -m "not e2e" tests/delivery/test_engine.py tests/integrations
