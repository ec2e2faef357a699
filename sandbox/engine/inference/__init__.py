"""Model serving containers, run as `python -m sandbox.engine.inference.host`: each endpoint
variant (and each batch transform job) gets one such process, which loads the model the way
the SageMaker container does and answers invocations with that container's inference contract.

The server talks to it over its stdin/stdout with framed messages (`protocol.py`); the
process's stderr is the container's log (it goes to `/aws/sagemaker/Endpoints/<name>` or the
transform job's log stream). Whatever user code prints also lands in the log, never in the
protocol stream.
"""
