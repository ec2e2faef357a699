"""Cost: the dated price table (data/prices.json), estimators built on it, its refresh from the
AWS Price List API, cached look-ups for estimators. May import tools.core.
"""
