"""Stage 3, feature engineering: Feature Store groups and records, SageMaker Processing, the job
waiter. May import the framework and tools.stages.shared.
"""
