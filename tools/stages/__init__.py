"""The pipeline stages' tools, one package per stage, one module per service."""
