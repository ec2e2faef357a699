"""Stage 9, orchestration: SageMaker Pipelines built from what the session ran (definition,
drafts, pipelines, executions). May import the framework and the other stages' request builders.
"""
