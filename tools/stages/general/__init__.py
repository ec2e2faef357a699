"""The knowledge tools (stage "general"): the stage catalog for the model, no AWS calls.
May import tools.core and tools.catalog.
"""
