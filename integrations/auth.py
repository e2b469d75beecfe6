"""API key authentication (placeholder module, completed with the REST API)."""
