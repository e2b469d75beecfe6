"""Signal receivers of the configuration side (filled in by the audit/login work)."""
