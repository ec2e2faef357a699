"""Stage 4, model training: training jobs and metrics, Autopilot, Experiments, JumpStart, AWS
Batch, Studio, built-in algorithms. May import the framework and tools.stages.shared.
"""
