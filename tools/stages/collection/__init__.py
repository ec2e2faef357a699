"""Stage 1, data collection: S3 (buckets, uploads, objects), the Glue Data Catalog and Glue ETL,
Kinesis, Data Exchange. May import the framework and tools.stages.shared.
"""
