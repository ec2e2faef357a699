"""Screens of the sagecoach app: approval modal, audit log, conversations, help."""
