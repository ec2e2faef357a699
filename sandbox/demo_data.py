"""A synthetic customer-churn dataset the project makes itself (no download, deterministic)."""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

COLUMNS = [
    "customer_id",
    "signup_date",
    "state",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "contract",
    "support_calls",
    "data_gb",
    "has_partner",
    "churned",
]
_STATES = ["CA", "NY", "TX", "WA", "FL", "IL", "OH", "GA", "NC", "MA"]
_CONTRACTS = ["month-to-month", "one-year", "two-year"]


def churn_rows(rows: int = 3000, seed: int = 7) -> list[list[str]]:
    """Rows with a learnable signal: short tenure, many support calls, monthly contracts churn."""
    rng = random.Random(seed)
    out: list[list[str]] = []
    for index in range(rows):
        tenure = rng.randint(1, 72)
        contract = rng.choices(_CONTRACTS, weights=[5, 3, 2])[0]
        monthly = round(rng.uniform(18, 120), 2)
        calls = min(9, int(rng.expovariate(0.6)))
        data_gb = round(rng.lognormvariate(1.5, 0.8), 2)
        partner = rng.random() < 0.45
        score = (
            -1.2
            + 0.45 * calls
            - 0.05 * tenure
            + (1.1 if contract == "month-to-month" else -0.6)
            + 0.012 * (monthly - 60)
            - (0.3 if partner else 0.0)
        )
        churned = rng.random() < 1 / (1 + math.exp(-score))
        year = 2019 + index % 6
        month = 1 + rng.randrange(12)
        day = 1 + rng.randrange(28)
        total = "" if rng.random() < 0.01 else f"{monthly * tenure:.2f}"  # a few nulls to find
        out.append(
            [
                f"C{100000 + index}",
                f"{year}-{month:02d}-{day:02d}",
                rng.choice(_STATES),
                str(tenure),
                f"{monthly:.2f}",
                total,
                contract,
                str(calls),
                f"{data_gb:.2f}",
                "yes" if partner else "no",
                "1" if churned else "0",
            ]
        )
    return out


def churn_csv(rows: int = 3000, seed: int = 7) -> str:
    buffer = io.StringIO()
    buffer.write(",".join(COLUMNS) + "\n")
    for row in churn_rows(rows, seed):
        buffer.write(",".join(row) + "\n")
    return buffer.getvalue()


def write_churn_csv(path: Path, rows: int = 3000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(churn_csv(rows), encoding="utf-8")
    return path
