"""How the worker reports to the API: direct calls or internal HTTP routes."""
