"""The front ends: the Textual app (screens, widgets, .tcss) and the command line (cli, commands).
The top layer: may import agent, tools, sandbox and prompts; the only layer that imports Textual.
"""
