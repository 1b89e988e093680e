"""Order API logic (validation, fencing, idempotent acceptance, health) behind ``handler``."""
