"""The tools: one package per pipeline stage, one module per AWS service, each stage's catalog
text; shared/ has helpers several stages use. May import tools.core, aws, cost and ledger.
"""
