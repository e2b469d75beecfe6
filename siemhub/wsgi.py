"""WSGI entry point; refuses to serve with a missing or wrong FIELD_ENCRYPTION_KEY."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siemhub.settings")
application = get_wsgi_application()

from siemhub.startup import verify_encryption_key_or_exit  # noqa: E402

verify_encryption_key_or_exit(exit_code=4)
