"""The `sagecoach` subcommands (ask, doctor, eval, log, prices, sandbox, stages, tools), one module
each, registered on the Typer app by tui.cli_app. May import agent, tools and sandbox.
"""
