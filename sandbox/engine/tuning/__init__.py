"""Hyperparameter tuning as SageMaker runs it: a tuning job launches ordinary training jobs
through the engine (at most MaxParallelTrainingJobs at a time, up to MaxNumberOfTrainingJobs),
choosing hyperparameters with its strategy (`strategies.py`: Random, Bayesian with optuna's TPE,
Grid, Hyperband), stopping the unpromising ones early (`early_stopping.py`), and keeps the
best by its objective (`job.py`)."""
