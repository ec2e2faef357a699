"""Helpers several stages share: reading tables (tabular, table_schemas, s3_reads), SageMaker job
waits (jobs), list answers (listing). May import the framework; never a stage package.
"""
