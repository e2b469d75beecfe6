"""Signal receivers of the engine."""
