"""The wall display and operator console (Dash)."""
