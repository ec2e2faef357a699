"""Stage 8, monitoring: Model Monitor schedules and runs, CloudWatch metrics, alarms and logs,
CloudTrail. May import the framework and tools.stages.shared.
"""
