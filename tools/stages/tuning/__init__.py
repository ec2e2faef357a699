"""Stage 5, hyperparameter tuning: SageMaker automatic model tuning jobs.
May import the framework, tools.stages.shared and the training stage (its training definition).
"""
