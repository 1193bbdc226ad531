"""Database schema: versioned SQL migrations applied by ``ioc db migrate``."""
