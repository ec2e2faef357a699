"""The resource ledger: what each session created and what it costs (store), how tools record to
it (recording), cleanup and the session tools. May import tools.core, tools.aws, tools.cost.
"""
