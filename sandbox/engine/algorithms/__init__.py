"""Built-in algorithms, run inside the container process (never imported by the server)."""
