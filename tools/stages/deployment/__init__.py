"""Stage 7, deployment: models, real-time / serverless / multi-model endpoints, invocation, batch
transform, a Lambda + API Gateway proxy. May import the framework and tools.stages.shared.
"""
