"""Stage 3, feature engineering."""
