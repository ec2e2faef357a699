"""Screens of the sagecoach app: approval modal, audit log, conversations, help.
Textual screens; may import agent and tools (for what they show), never the other way round.
"""
