"""Typed AWS tools: the framework (core, aws, cost, ledger, catalog) and one package per pipeline
stage (stages/). May import sandbox (to start it); never agent, tui, Textual.
"""
