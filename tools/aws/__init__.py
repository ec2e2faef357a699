"""The AWS access layer: the session's AwsContext (clients, hooks, identity), the read-only guard,
IAM roles, the read-only SQL check. May import tools.core (roles) and boto3; nothing of the stages.
"""
