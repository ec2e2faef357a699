"""Tools for this stage (filled in by its issue)."""
