"""The stage catalog's logic: records (model), lookups, word matching, the recommender; its text
lives beside each stage (tools/stages/<stage>/catalog.py). May import tools.core and that text.
"""
