"""Words: tokenising, light stemming, synonyms and typo tolerance for the offline planner.

Everything here is deterministic and dependency-free (difflib for near matches).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset(
    """a an the and or but of to in on at for from by with into onto about as is are was were be
    been being am do does did doing have has had having i me my we our us you your it its this that
    these those there here them they their please pls plz can could would should will shall may might
    must just now then also so very really some any all each every what which whom whose how why
    when where if than too up out over again once hey hi hello ok okay thanks thank yeah want wanna
    need needs like lets let let's go gonna get got give me quick quickly kindly one im i'm it's
    something thing things stuff bit little mine sure via using use used named called
    s t d ll re ve m""".split()  # noqa: SIM905
)

# Words that keep their meaning as written even though they look like stopwords elsewhere.
_KEEP = frozenset({"use", "new", "all", "run", "list", "get", "show", "up"})

# A word (after stemming) -> canonical words it also stands for. Both sides are stemmed forms.
_RAW_SYNONYMS: dict[str, tuple[str, ...]] = {
    # verbs
    "make": ("create",),
    "creat": ("create",),
    "setup": ("create",),
    "add": ("create",),
    "build": ("create",),
    "provision": ("create",),
    "spin": ("create", "start"),
    "new": ("create",),
    "register": ("create",),
    "remov": ("delete",),
    "drop": ("delete",),
    "destroy": ("delete",),
    "teardown": ("delete", "cleanup"),
    "tear": ("delete", "cleanup"),
    "nuke": ("delete", "cleanup"),
    "wipe": ("delete", "cleanup"),
    "fresh": ("create",),
    "stick": ("upload",),
    "inside": ("list", "object"),
    "content": ("list", "object"),
    "crash": ("fail",),
    "broke": ("fail",),
    "broken": ("fail",),
    "prod": ("production", "monitor"),
    "classifier": ("train",),
    "classify": ("train",),
    "regressor": ("train",),
    "forecast": ("train",),
    "rm": ("delete",),
    "purg": ("delete",),
    "eras": ("delete",),
    "clean": ("cleanup",),
    "cleanup": ("cleanup", "delete"),
    "show": ("list", "describe"),
    "see": ("list", "describe", "preview"),
    "who": ("cloudtrail", "audit"),
    "going": ("describe",),
    "doing": ("describe",),
    "finish": ("describe",),
    "done": ("describe",),
    "ready": ("describe",),
    "yet": ("describe",),
    "view": ("list", "describe"),
    "display": ("list", "describe"),
    "enumerat": ("list",),
    "ls": ("list",),
    "which": ("list",),
    "status": ("describe",),
    "progress": ("describe",),
    "detail": ("describe",),
    "info": ("describe",),
    "inspect": ("describe",),
    "check": ("describe",),
    "fit": ("train",),
    "retrain": ("train",),
    "learn": ("train",),
    "host": ("deploy",),
    "serv": ("deploy",),
    "ship": ("deploy",),
    "publish": ("deploy",),
    "put": ("upload",),
    "push": ("upload",),
    "copy": ("upload",),
    "send": ("upload",),
    "load": ("upload",),
    "ingest": ("ingest", "upload"),
    "peek": ("preview",),
    "head": ("preview",),
    "sampl": ("preview", "sample"),
    "glanc": ("preview",),
    "look": ("preview", "describe"),
    "open": ("preview",),
    "read": ("preview",),
    "first": ("preview",),
    "row": ("preview", "row"),
    "sql": ("query",),
    "select": ("query",),
    "count": ("query", "count"),
    "halt": ("stop",),
    "kill": ("stop",),
    "cancel": ("stop",),
    "abort": ("stop",),
    "terminat": ("stop", "delete"),
    "launch": ("start",),
    "kick": ("start",),
    "trigger": ("start",),
    "begin": ("start",),
    "execut": ("start", "run"),
    "run": ("start", "run"),
    "predict": ("invoke", "prediction"),
    "prediction": ("invoke",),
    "score": ("invoke",),
    "call": ("invoke",),
    "hit": ("invoke",),
    "ping": ("invoke",),
    "test": ("invoke", "test"),
    "optimis": ("tune",),
    "optimiz": ("tune",),
    "tun": ("tune",),
    "hpo": ("tune", "hyperparamet"),
    "hyperparam": ("hyperparamet",),
    "sweep": ("tune",),
    "search": ("tune", "search"),
    "compar": ("compare",),
    "vs": ("compare",),
    "versus": ("compare",),
    "explain": ("explain", "describe"),
    "explainabl": ("explain", "shap"),
    "shap": ("explain",),
    "fair": ("bias",),
    "fairnes": ("bias",),
    "discriminat": ("bias",),
    "recommend": ("recommend",),
    "suggest": ("recommend",),
    "advic": ("recommend",),
    "advis": ("recommend",),
    "should": ("recommend",),
    "best": ("recommend", "best"),
    "bill": ("cost", "price"),
    "charg": ("cost", "price"),
    "pric": ("cost", "price"),
    "cost": ("cost", "price"),
    "expens": ("cost",),
    "cheap": ("cost",),
    "spend": ("cost",),
    "pay": ("cost",),
    "catalog": ("catalog",),
    "crawl": ("crawler",),
    "crawler": ("crawler",),
    "schema": ("schema", "column"),
    "column": ("schema", "column"),
    "field": ("schema", "column"),
    "watch": ("monitor", "wait"),
    "track": ("monitor",),
    "drift": ("monitor", "drift"),
    "alert": ("alarm",),
    "notify": ("alarm",),
    "log": ("log",),
    "audit": ("cloudtrail", "audit"),
    "wait": ("wait",),
    "until": ("wait",),
    # nouns
    "s3": ("s3", "bucket"),
    "s3uri": ("s3",),  # an S3 URI in the request: an argument, weaker than the word "s3"
    "bucket": ("bucket", "s3"),
    "bkt": ("bucket",),
    "object": ("object", "file"),
    "file": ("file", "object"),
    "csv": ("csv", "file", "data"),
    "parquet": ("file", "data"),
    "dataset": ("data", "dataset"),
    "data": ("data",),
    "tabl": ("table",),
    "db": ("database",),
    "databas": ("database",),
    "endpoint": ("endpoint",),
    "ep": ("endpoint",),
    "model": ("model",),
    "job": ("job",),
    "pipelin": ("pipeline",),
    "workflow": ("pipeline", "orchestrat"),
    "automat": ("pipeline", "orchestrat", "automat"),
    "orchestrat": ("pipeline", "orchestrat"),
    "cicd": ("pipeline",),
    "mlop": ("pipeline",),
    "automl": ("autopilot",),
    "autopilot": ("autopilot", "automl"),
    "xgb": ("xgboost",),
    "gbm": ("xgboost",),
    "stream": ("stream", "kinesis"),
    "kinesis": ("kinesis", "stream"),
    "realtim": ("realtime",),
    "lambda": ("lambda",),
    "function": ("lambda", "function"),
    "serverless": ("serverless",),
    "api": ("api", "apigateway"),
    "rest": ("api",),
    "gateway": ("apigateway",),
    "metric": ("metric",),
    "accuracy": ("metric",),
    "auc": ("metric",),
    "loss": ("metric",),
    "latency": ("metric", "latency"),
    "chart": ("metric",),
    "graph": ("metric",),
    "curv": ("metric",),
    "feature": ("feature",),
    "featurestor": ("feature", "store"),
    "resourc": ("resource",),
    "leftover": ("resource", "cleanup"),
    "spent": ("cost",),
    "bia": ("bias",),
    "stage": ("stage",),
    "step": ("stage",),
    "phase": ("stage",),
    "servic": ("service",),
    "tool": ("service",),
    "option": ("service", "recommend"),
    "jumpstart": ("jumpstart", "pretrain"),
    "pretrain": ("jumpstart",),
    "foundation": ("jumpstart",),
    "llm": ("jumpstart",),
    "batch": ("batch",),
    "offlin": ("batch",),
    "transform": ("transform",),
    "eda": ("explor", "prepar"),
    "explor": ("explor",),
    "wrangl": ("prepar", "databrew"),
    "profil": ("profile", "databrew"),
    "databrew": ("databrew",),
    "brew": ("databrew",),
    "glue": ("glue",),
    "etl": ("glue", "etl"),
    "athena": ("athena", "query"),
    "experiment": ("experiment",),
    "trial": ("experiment",),
    "studio": ("studio", "domain"),
    "notebook": ("studio",),
    "domain": ("domain", "studio"),
    "baselin": ("baseline",),
    "constraint": ("baseline",),
    "statist": ("baseline",),
    "schedul": ("schedule",),
    "cron": ("schedule",),
    "hourly": ("schedule",),
    "daily": ("schedule",),
    "execution": ("execution", "run"),
    "definition": ("definition",),
    "exchang": ("dataexchange",),
    "subscrib": ("dataexchange",),
    "thirdparty": ("dataexchange",),
    "record": ("record",),
    "candidat": ("candidate",),
    "leaderboard": ("candidate",),
    "queu": ("queue",),
    "hpc": ("batch",),
    "quicksight": ("quicksight", "dashboard"),
    "dashboard": ("dashboard", "quicksight"),
    "bi": ("dashboard",),
    "workgroup": ("workgroup",),
    "alarm": ("alarm",),
    "cloudwatch": ("cloudwatch", "metric"),
    "cloudtrail": ("cloudtrail",),
    "event": ("event",),
    "trail": ("cloudtrail",),
}

# Multi-word expressions folded into one token before tokenising (longest first).
PHRASE_FOLDS: tuple[tuple[str, str], ...] = (
    ("feature store", "featurestore"),
    ("feature group", "featuregroup featurestore"),
    ("tear down", "teardown"),
    ("clean up", "cleanup"),
    ("clean-up", "cleanup"),
    ("spin up", "create start"),
    ("set up", "setup"),
    ("kick off", "start"),
    ("fire off", "start"),
    ("get rid of", "delete"),
    ("take down", "delete stop"),
    ("took down", "delete stop"),
    ("stand up", "create start"),
    ("bring up", "create start"),
    ("blow up", "fail"),
    ("blew up", "fail"),
    ("side by side", "compare"),
    ("ping me", "alert"),
    ("let me know", "alert"),
    ("tell me when", "alert"),
    ("tell me if", "alert"),
    ("warn me", "alert"),
    ("email me", "alert"),
    ("page me", "alert"),
    ("did it work", "status"),
    ("did that work", "status"),
    ("did this work", "status"),
    ("did it succeed", "status"),
    ("did that succeed", "status"),
    ("go ok", "status"),
    ("go well", "status"),
    ("keep an eye on", "monitor"),
    ("shut down", "delete stop"),
    ("shutdown", "delete stop"),
    ("turn off", "delete stop"),
    ("turn on", "enable"),
    ("switch on", "enable"),
    ("real-time", "realtime"),
    ("real time", "realtime"),
    ("hyperparameter searches", "hyperparameter tuning jobs"),
    ("hyperparameter search", "hyperparameter tuning"),
    ("hyper-parameter", "hyperparameter"),
    ("hyper parameter", "hyperparameter"),
    ("k-means", "kmeans"),
    ("k means", "kmeans"),
    ("random cut forest", "randomcutforest rcf"),
    ("linear learner", "linearlearner"),
    ("linear-learner", "linearlearner"),
    ("scikit-learn", "sklearn"),
    ("scikit learn", "sklearn"),
    ("ci/cd", "cicd"),
    ("ci cd", "cicd"),
    ("data exchange", "dataexchange"),
    ("third-party", "thirdparty"),
    ("third party", "thirdparty"),
    ("model monitor", "modelmonitor monitor"),
    ("api gateway", "apigateway"),
    ("data wrangler", "datawrangler wrangl"),
    ("glue databrew", "databrew"),
    ("glue data brew", "databrew"),
    ("data brew", "databrew"),
    ("on a log scale", "tune"),
    ("log scale", "tune"),
    ("log-scale", "tune"),
    ("logarithmic", "tune"),
    ("log-uniform", "tune"),
    ("how much", "cost"),
    ("what does it cost", "cost"),
    ("what should i use", "recommend"),
    ("which service", "recommend service"),
    ("what service", "recommend service"),
    ("what tool", "recommend service"),
    ("what is", "describe"),
    ("what's", "describe"),
    ("tell me about", "describe"),
    ("how does", "describe"),
    ("how do i", "recommend"),
    ("step functions", "stepfunctions"),
    ("automatic model tuning", "tune hyperparameter"),
    ("batch transform", "batch transform"),
    ("do the same", "dothesame"),
    ("same for", "dothesame"),
    ("same thing", "dothesame"),
    ("again for", "dothesame"),
    ("e.g.", " "),
)

_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s", "e")


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A very light stemmer: enough to fold plurals and verb forms together."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix == "ies":
                return base + "y"
            if (
                suffix in ("ing", "ed", "er", "ers", "ings")
                and len(base) > 3
                and base[-1] == base[-2]
                and base[-1] not in "lsz"
            ):
                base = base[:-1]  # running -> run, stopped -> stop
            return base
    return word


def _normalise_synonyms(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, values in table.items():
        k = stem(key)
        merged = list(out.get(k, ()))
        for v in values:
            sv = stem(v)
            if sv not in merged and sv != k:
                merged.append(sv)
        out[k] = tuple(merged)
    return out


SYNONYMS = _normalise_synonyms(_RAW_SYNONYMS)


def fold_phrases(text: str) -> str:
    low = f" {text.lower()} "
    for phrase, repl in PHRASE_FOLDS:
        if phrase in low:
            low = re.sub(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", f" {repl} ", low)
    return low


def raw_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str, *, fold: bool = True) -> list[str]:
    """Stemmed words of the text with stopwords removed (phrase folds applied first)."""
    source = fold_phrases(text) if fold else text.lower()
    out = []
    for w in _WORD.findall(source):
        if w in STOPWORDS and w not in _KEEP:
            continue
        out.append(stem(w))
    return out


def expand(tokens: Iterable[str]) -> list[str]:
    """Tokens plus their synonyms (synonyms after the originals, duplicates kept once)."""
    seen: dict[str, None] = {}
    for t in tokens:
        seen.setdefault(t, None)
        for s in SYNONYMS.get(t, ()):
            seen.setdefault(s, None)
    return list(seen)


# Everyday words that are not typos of tool words ("team" is not "stream").
COMMON_WORDS = frozenset(
    """team teams other others share reuse keep live place right wrong good bad fine case people
    person user users customer customers thing way ways kind sort part parts easy hard fast slow
    cheap cheaper expensive idea need idle busy time times day days week month year money price
    where when why what which who how should would could does doing done make made take took
    going gone went yet still now later soon already finished finish going anything everything
    nothing something someone anyone""".split()  # noqa: SIM905
)


class Typos:
    """Fixes misspelled words against the words people use with sagecoach ("wat shoud i use to
    stor featurs" -> "what should i use to store features"), so the question and stage patterns
    see the words. Names and URIs are not in the text it is given (the ranking text)."""

    def __init__(self, words: Iterable[str], known_stems: Iterable[str] = ()) -> None:
        self.known_stems = set(known_stems) | set(SYNONYMS)
        self.words = sorted({w for w in words if len(w) >= 2} | STOPWORDS | COMMON_WORDS)
        self._set = set(self.words)
        self._cache: dict[str, str] = {}
        self._by_first: dict[str, list[str]] = {}
        for w in self.words:  # a misspelling rarely changes the first letter
            self._by_first.setdefault(w[0], []).append(w)

    def word(self, word: str) -> str:
        low = word.lower()
        if low in self._set or len(low) < 3 or not low.isalpha() or stem(low) in self.known_stems:
            return word  # known, or a form of a known word ("storing")
        if low not in self._cache:
            swapped = _transposed(low, self._set)
            if swapped:
                self._cache[low] = swapped
                return swapped
            cutoff = 0.84 if len(low) < 5 else 0.8
            pool = [w for w in self._by_first.get(low[0], []) if abs(len(w) - len(low)) <= 2]
            match = difflib.get_close_matches(low, pool, n=1, cutoff=cutoff)
            self._cache[low] = match[0] if match else low
        return self._cache[low]

    def fix(self, text: str) -> str:
        return re.sub(r"[A-Za-z]+", lambda m: self.word(m.group(0)), text)


def _transposed(word: str, known: set[str]) -> str | None:
    """ "lsit" -> "list": two neighbouring letters swapped, the commonest slip."""
    for i in range(len(word) - 1):
        candidate = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if candidate in known:
            return candidate
    return None


class Vocabulary:
    """Known words, for correcting typos against ("endpiont" -> "endpoint")."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted(set(words))
        self._set = set(self.words)
        self._cache: dict[str, str | None] = {}

    def __contains__(self, word: str) -> bool:
        return word in self._set

    def correct(self, word: str) -> str | None:
        """The closest known word for an unknown one, or None."""
        if word in self._set or word in SYNONYMS:
            return word
        if len(word) < 4 or word.isdigit() or word in COMMON_WORDS:
            return None
        if word not in self._cache:
            cutoff = 0.8 if len(word) < 7 else 0.82
            match = difflib.get_close_matches(word, self.words, n=1, cutoff=cutoff)
            if not match:
                syn = difflib.get_close_matches(word, list(SYNONYMS), n=1, cutoff=0.85)
                match = syn
            self._cache[word] = match[0] if match else None
        return self._cache[word]


def similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()
