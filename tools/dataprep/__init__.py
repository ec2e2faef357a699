"""Data readiness: turning a table into a built-in algorithm's input, and the manifest
(`schema.json`) that invoke, transform, Clarify and monitoring reuse. Imports nothing above
`tools`; `core.py` imports only the standard library (it also runs as a processing script)."""
