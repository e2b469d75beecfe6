#!/usr/bin/env bash
# Set up and start siemhub on the embedded default: SQLite + Celery's filesystem broker, web
# server, worker and beat in one terminal. Production settings (DATABASE_URL, CELERY_BROKER_URL,
# ...) are read from the environment or .env instead when set.
source "$(dirname "$0")/lib.sh"
ensure_venv
if [ ! -f .env ]; then
  key=$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  umask 077
  printf 'SECRET_KEY=%s\nFIELD_ENCRYPTION_KEY=%s\n' "$secret" "$key" > .env
  echo "siemhub: wrote .env with a new SECRET_KEY and FIELD_ENCRYPTION_KEY (keep it: it decrypts your secrets)" >&2
fi
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py check_encryption_key
.venv/bin/python manage.py ensure_admin
export SIEMHUB_BIND=${SIEMHUB_BIND:-127.0.0.1:8000}
echo "siemhub: open http://$SIEMHUB_BIND/settings/siem/  (Ctrl-C stops web, worker and beat)"
exec .venv/bin/honcho -f Procfile start
