"""The local AWS: moto's server on loopback, demo data, and (growing) the execution engine.

Lowest layer: imports nothing from tools, agent or tui, and never LangChain or Textual.
"""
