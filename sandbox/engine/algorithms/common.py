"""What every built-in algorithm container shares: its view of /opt/ml, its error kinds, its log
format, and reading label-first CSV the way SageMaker's containers read it.

Runs inside the container process (never in the server); numpy and pandas load here only.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("algorithm")


class UserError(Exception):
    """A failure the user can fix (data, hyperparameters): the job fails, reason ClientError."""


class AlgorithmError(Exception):
    """A failure inside the algorithm."""


def configure_logging() -> None:
    """The containers' line format: [2024-01-31:12:00:00:INFO] message, on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter("[%(asctime)s:%(levelname)s] %(message)s", "%Y-%m-%d:%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


@dataclass
class ContainerEnv:
    """/opt/ml as the container sees it (mapped to the job's directory)."""

    root: Path
    job_name: str
    algorithm: str
    version: str

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.root / "output" / "data"

    def channel_dir(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    def _json(self, name: str) -> dict[str, Any]:
        path = self.config_dir / name
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def hyperparameters(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._json("hyperparameters.json").items()}

    @property
    def data_config(self) -> dict[str, dict[str, Any]]:
        return self._json("inputdataconfig.json")

    @property
    def checkpoint_dir(self) -> Path | None:
        local = self._json("checkpointconfig.json").get("LocalPath")
        return Path(local) if local else None

    def channels(self) -> list[str]:
        return sorted(self.data_config)


def data_files(path: Path, max_depth: int = 3) -> list[Path]:
    """The files of a channel, as the containers walk it: sorted, at most 3 folders deep.

    A hidden file anywhere is an error, as in SageMaker XGBoost's `get_size`.
    """
    if not path.exists():
        return []
    if path.is_file():
        return [path]
    found: list[Path] = []
    for current, dirs, files in os.walk(path):
        depth = len(Path(current).relative_to(path).parts)
        if depth >= max_depth:
            dirs[:] = []
        for name in sorted(files):
            if name.startswith("."):
                raise UserError("Hidden file found in the data path! Remove that before training.")
            found.append(Path(current) / name)
    return sorted(found)


def total_size(files: list[Path]) -> int:
    return sum(f.stat().st_size for f in files)


def sniff_delimiter(first_line: str) -> str:
    """The delimiter of a CSV, decided from its first line (csv.Sniffer, as the container does)."""
    try:
        delimiter = csv.Sniffer().sniff(first_line).delimiter
    except Exception as exc:
        raise UserError(
            f"Could not determine delimiter on line {first_line[:50]}:\n{exc}"
        ) from None
    log.info("Determined delimiter of CSV input is '%s'", delimiter)
    return delimiter


_NUMBER_PREFIX = r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def read_label_first_csv(files: list[Path], label_column: int | None = 0) -> tuple[Any, Any]:
    """Rows of numbers from CSV files as XGBoost's CSV parser (dmlc) reads them.

    - no header handling: a header line is a row like any other;
    - each cell is read as the longest leading number ("2019-03-01" → 2019, " 7 " → 7);
    - a feature cell with no leading number is missing (NaN); a label cell with none is 0;
    - quotes are not special; rows may be ragged (missing cells at the end are missing).

    Returns (features as float32 ndarray with NaN for missing, labels or None).
    """
    import numpy as np
    import pandas as pd

    if not files:
        return np.zeros((0, 0), dtype=np.float32), None
    with files[0].open("r", errors="ignore") as handle:
        first = handle.readline()
    delimiter = sniff_delimiter(first)
    fast = [_read_numbers(path, delimiter) for path in files]
    if all(f is not None for f in fast) and len({f.shape[1] for f in fast if f.size}) <= 1:
        numbers = np.vstack([f for f in fast if f.size]) if any(f.size for f in fast) else None
        if numbers is not None:
            return _split_label(numbers, label_column)
    frames = [_read_cells(path, delimiter) for path in files]
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return np.zeros((0, 0), dtype=np.float32), None
    width = max(f.shape[1] for f in frames)
    frames = [f.reindex(columns=range(width)) for f in frames]
    cells = pd.concat(frames, ignore_index=True)
    numbers = np.empty(cells.shape, dtype=np.float64)
    for position in range(width):
        column = cells[position]
        parsed = pd.to_numeric(column, errors="coerce")
        loose = parsed.isna() & column.notna() & (column.astype(str).str.strip() != "")
        if loose.any():
            prefix = column[loose].astype(str).str.extract(_NUMBER_PREFIX, expand=False)
            parsed = parsed.astype("float64")
            parsed[loose] = pd.to_numeric(prefix, errors="coerce")
        numbers[:, position] = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    return _split_label(numbers, label_column)


def _split_label(numbers: Any, label_column: int | None) -> tuple[Any, Any]:
    import numpy as np

    if label_column is None:
        features = numbers
        labels = None
    else:
        labels = np.nan_to_num(numbers[:, label_column], nan=0.0)
        features = np.delete(numbers, label_column, axis=1)
    # XGBoost counts columns up to the last one holding a value in any row.
    present = np.where(~np.isnan(features).all(axis=0))[0]
    features = features[:, : (int(present[-1]) + 1 if len(present) else 0)]
    return features.astype(np.float32), labels


def _read_numbers(path: Path, delimiter: str) -> Any:
    """The fast path: a file whose every cell is a number (or empty) reads in one C pass."""
    import numpy as np
    import pandas as pd

    try:
        frame = pd.read_csv(
            path, sep=delimiter, header=None, dtype=np.float64, quoting=csv.QUOTE_NONE,
            skip_blank_lines=True, engine="c", na_filter=True, keep_default_na=False,
            na_values=[""],
        )  # fmt: skip
    except pd.errors.EmptyDataError:
        return np.zeros((0, 0))
    except (ValueError, pd.errors.ParserError):
        return None
    return frame.to_numpy(dtype=np.float64)


def _read_cells(path: Path, delimiter: str) -> Any:
    """Every cell of one file as text (None for absent), quotes left as they are."""
    import pandas as pd

    try:
        return pd.read_csv(
            path, sep=delimiter, header=None, dtype=str, keep_default_na=False,
            quoting=csv.QUOTE_NONE, skip_blank_lines=True, engine="c",
        )  # fmt: skip
    except pd.errors.EmptyDataError:
        return None
    except pd.errors.ParserError:
        rows = []
        with path.open("r", errors="ignore") as handle:
            for line in handle:
                line = line.rstrip("\r\n")
                if line:
                    rows.append(line.split(delimiter))
        width = max((len(r) for r in rows), default=0)
        return pd.DataFrame([r + [None] * (width - len(r)) for r in rows])
