"""Stage 6, model evaluation: compare training jobs, SageMaker Clarify (bias, SHAP) and Model
Monitor baselines. May import the framework, tools.stages.shared and the training stage.
"""
