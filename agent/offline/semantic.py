"""Meaning, not only words: sentence similarity from a small static embedding model.

The model is WordLlama's bundled 256-dimension token embedding (`l2_supercat_256`, MIT), which
ships inside the `wordllama` wheel together with its tokenizer, so nothing is downloaded. Only
those two files are read (safetensors + tokenizers); the `wordllama` package itself is never
imported (it configures logging and can fetch other models from the network).

A sentence's vector is the mean of its tokens' vectors, without the little words, normalised.
A tool's vectors are its declared phrases, its description and its name, embedded once per
tool set. Loading takes ~0.3 s, so it happens on first use or in the background after the
app's first frame (`agent.offline.model.warm_up`); a request then takes well under a
millisecond.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from agent.offline.text import STOPWORDS, raw_words

WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
_KEEP = {"all", "up", "down", "new", "off", "not", "no", "best", "first", "last", "again", "why"}

_lock = threading.Lock()
_model: _Model | None = None
_failed = ""


class _Model:
    def __init__(self, matrix: Any, tokenizer: Any) -> None:
        self.matrix = matrix
        self.tokenizer = tokenizer
        self.dim = int(matrix.shape[1])

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        cleaned = [_clean(t) for t in texts]
        encodings = self.tokenizer.encode_batch(cleaned, add_special_tokens=False)
        for i, enc in enumerate(encodings):
            ids = [t for t in enc.ids if 0 <= t < self.matrix.shape[0]]
            if ids:
                out[i] = self.matrix[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def _clean(text: str) -> str:
    """The words that carry meaning ("please can you list my buckets" -> "list buckets")."""
    words = [w for w in raw_words(text.replace("_", " ")) if w not in STOPWORDS or w in _KEEP]
    return " ".join(words) or text.lower()


def package_dir() -> Path | None:
    """Where the wordllama wheel put its files (found without importing the package)."""
    try:
        spec = importlib.util.find_spec("wordllama")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _load() -> _Model:
    import numpy as np
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    root = package_dir()
    if root is None:
        raise FileNotFoundError("the wordllama package is not installed")
    weights, tokenizer = root / WEIGHTS, root / TOKENIZER
    if not weights.is_file() or not tokenizer.is_file():
        raise FileNotFoundError(f"the bundled model is missing under {root}")
    matrix = load_file(str(weights))["embedding.weight"]
    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_padding()
    tok.no_truncation()
    return _Model(np.ascontiguousarray(matrix, dtype=np.float32), tok)


def model() -> _Model | None:
    """The loaded model, loading it on first use; None when it cannot be loaded."""
    global _model, _failed
    if _model is not None or _failed:
        return _model
    with _lock:
        if _model is None and not _failed:
            try:
                _model = _load()
            except Exception as exc:  # no model: ranking falls back to words alone
                _failed = f"{type(exc).__name__}: {exc}"
    return _model


def status() -> str:
    if _model is not None:
        return f"semantic ranking on (WordLlama l2_supercat, {_model.dim} dims)"
    return f"semantic ranking off ({_failed})" if _failed else "semantic ranking not loaded yet"


# Tool-text matrices by content, so every planner over the same tools shares one (and the
# background warm-up's work is reused by the session's first request).
_MATRICES: dict[int, Any] = {}


def tool_texts(info: Any) -> list[str]:
    """What a tool is embedded from: its declared phrases, description and name."""
    return [*info.phrases, info.description, info.name.replace("_", " ")]


class ToolVectors:
    """Each tool's phrase, description and name vectors, for one tool set (built once)."""

    def __init__(self, texts: dict[str, list[str]]) -> None:
        self.names: list[str] = []
        self.owner: list[int] = []
        flat: list[str] = []
        for i, (name, items) in enumerate(texts.items()):
            self.names.append(name)
            for text in items:
                if text.strip():
                    flat.append(text)
                    self.owner.append(i)
        self._flat = flat
        self._matrix: Any = None
        self._ready = False

    def _build(self) -> bool:
        if self._ready:
            return self._matrix is not None
        m = model()
        self._ready = True
        if m is None or not self._flat:
            return False
        import numpy as np

        key = hash(tuple(self._flat))
        matrix = _MATRICES.get(key)
        if matrix is None:
            matrix = m.embed(self._flat)
            _MATRICES[key] = matrix
        self._matrix = matrix
        self._owner = np.asarray(self.owner)
        return True

    def similarity(self, text: str) -> dict[str, float]:
        """Cosine similarity of the request to each tool (its best-matching text); {} when
        the model is not available."""
        if not self._build():
            return {}
        import numpy as np

        m = model()
        assert m is not None
        query = m.embed([text])[0]
        if not query.any():
            return {}
        sims = self._matrix @ query
        best = np.full(len(self.names), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, sims)
        return {name: float(best[i]) for i, name in enumerate(self.names)}
