"""Stage 2, preparation and exploration: Athena, DataBrew, Lambda, QuickSight (Data Wrangler lives
in Studio; the catalog points people to it). May import the framework and tools.stages.shared.
"""
