"""Intent ranking: which bound tool a request most likely asks for.

A weighted term score (IDF over the tool set) of the request's words against each tool's
declared phrases, name, description and stage words, plus how well the best single phrase is
covered. Typos are corrected against the tools' own vocabulary. No per-tool rules: a new tool
becomes reachable by declaring phrases.
"""

from __future__ import annotations

import math
import os
import re
import statistics
from dataclasses import dataclass

from agent.offline.text import (
    PHRASE_FOLDS,
    STOPWORDS,
    Typos,
    Vocabulary,
    content_words,
    expand,
    fold_phrases,
    raw_words,
    stem,
)
from agent.offline.toolinfo import KNOWLEDGE_TOOLS, ToolInfo

W_PHRASE, W_NAME, W_DESC, W_STAGE, W_ARGS, W_ENUM = 3.0, 3.0, 0.7, 0.6, 0.4, 0.8
_VERBS = {
    stem(v)
    for v in [
        "create",
        "delete",
        "list",
        "describe",
        "start",
        "stop",
        "upload",
        "preview",
        "invoke",
        "train",
        "deploy",
        "query",
        "tune",
        "compare",
        "wait",
        "cleanup",
        "run",
        "get",
        "put",
        "build",
        "lookup",
        "ingest",
        "submit",
        "update",
        "recommend",
        "suggest",
        "explain",
        "suggest",
        "prepare",
        "process",
    ]
}
_QUESTION = re.compile(
    r"(?i)\?\s*$|^\s*(what|which|how|why|should|is|are|does|do|can|could|when|where|tell me|explain|remind me|show me how|"
    r"help me (choose|pick|decide)|recommend|suggest|i'?m (new|not sure|confused))\b"
)
_KNOWLEDGE_WORDS = re.compile(
    r"(?i)\b(use for|used for|should i use|good for|best (service|way|option|tool)|which service|"
    r"what service|billed|bill(ing)?|pric(e|ed|ing)|cost(s)? of|how much does|difference|vs\.?|versus|"
    r"recommend|suggest|options? for|explain|what is|what's|what are the stages|stages?|"
    r"when (should|to) (i )?use|how does .* work|pros and cons|compare .* (and|with|to)|options?|"
    r"good (for|at)|used? for|ways? to|which aws|what aws|cheapest|tell me about|should i|"
    r"what does .{1,40} cost|costs?\s*\??\s*$|how (is|are) .{1,40} (billed|priced|charged)|"
    r"(what|which) (are )?(all )?(the )?(steps|phases)|avoid|where (do|should|can|would|to) \w+|"
    r"how (do|should|can|would) (i|we|you|people|teams|folks)|what'?s the (right|best|usual)|"
    r"(right|good|best) (place|choice|fit|option|tool) (for|to)|worth it|downsides?|drawbacks?|"
    r"limitations?|pros|cons|trade-?offs?|which one|which is better|better for|"
    r"remind me (what|how|why|when)|what does .{1,40} (do|does)|what (is|are) .{1,30} for|"
    r"what (happens|would happen|will happen) (if|when)|show me how (to|i)|"
    r"what would .{1,40} cost)\b"
)
# A question about a service's nature (billing, when to use it), not about something of mine.
_NATURE_WORDS = re.compile(
    r"(?i)\b(billed|billing|bills?|pric(e|ed|ing)|costs?|charged?|how much|"
    r"when (should|would|do|to|not to) (i |you |we )?(not )?use|when not to|avoid|"
    r"what (is|are)|what's|whats|tell me about|explain|how does .{1,40} work|good for|used for|"
    r"pros and cons|difference|vs\.?|versus|worth it|downsides?|drawbacks?|limitations?|"
    r"trade-?offs?|remind me (what|how|why|when)|what does .{1,40} (do|does))\b"
)
_PERSONAL = re.compile(
    r"(?i)\b(my|our|(?<!worth )it(?! costs? to| would cost)|its|this|that|these|those|running|so far|spent|currently|right now|"
    r"i have|i've|we have|today|yesterday|last|left)\b"
)


_RECOMMEND_WORDS = re.compile(
    r"(?i)\b(should i|which (aws )?(service|tool)|what (aws )?(service|tool)|recommend|suggest|best|"
    r"options?|cheapest|ways? to|how (do|should|can|would) (i|we|you|people|teams|folks)|what do i use|"
    r"good for|need to|what to use|the (right|best|usual) (tool|service|way)|"
    r"use to|use for|which one|which is better|better for|where (do|should|can|would|to) \w+|"
    r"(right|good|best) (place|choice|fit))\b"
)


_DESCRIBE_WORDS = re.compile(
    r"(?i)\b(when (should|would|do) (i|you|we) (not )?use|(good|used) for|what is|what's|how (is|does)|"
    r"tell me about|explain|billed|pric(e|ed|ing))\b"
)


# Words of questions and goals that tool texts may not contain.
_EXTRA_RAW = (
    "store storage stored features feature label labels labeling billed billing pricing priced "
    "cost costs charged avoid recommend suggest service services stage stages pipeline endpoint "
    "endpoints serverless training train deploy model models data dataset bucket buckets",
)


# How the two signals combine: "blend" (the default), or one of them alone for comparison
# (`SAGECOACH_RANKING=lexical|semantic sagecoach eval ...`).
SIGNALS = ("blend", "lexical", "semantic")
# Points per standard deviation of similarity above the tool set's mean, within a band: one
# shared word (a service name) lifts every tool that has it, so the signal is capped.
W_SEMANTIC = float(os.environ.get("SAGECOACH_W_SEMANTIC", "0.75"))
SEMANTIC_BAND = (-1.5, float(os.environ.get("SAGECOACH_SEM_CAP", "2.5")))


_EXISTENCE_LEAD = re.compile(
    r"(?i)^\s*(any|are there|is there|do (i|we) have|have (i|we) got|got any|what|which)\b"
)


def ranking_signal() -> str:
    value = os.environ.get("SAGECOACH_RANKING", "blend").strip().lower()
    return value if value in SIGNALS else "blend"


@dataclass
class Candidate:
    tool: ToolInfo
    score: float
    text_score: float
    phrase_cover: float
    semantic: float = 0.0  # similarity in standard deviations above the mean (0: no model)


class Ranker:
    def __init__(
        self, tools: list[ToolInfo], extra_words: dict[str, list[str]] | None = None
    ) -> None:
        self.tools = tools
        self.docs: dict[str, dict[str, float]] = {}
        self.verbs: dict[str, set[str]] = {}
        self.phrase_tokens: dict[str, list[list[str]]] = {}
        extra_words = extra_words or {}
        for t in tools:
            doc: dict[str, float] = {}

            def put(words: list[str], w: float, doc: dict[str, float] = doc) -> None:
                for word in words:
                    if doc.get(word, 0.0) < w:
                        doc[word] = w

            put(content_words(t.description), W_DESC)
            put(content_words(" ".join(t.extra_words + extra_words.get(t.name, []))), W_DESC * 0.8)
            put(content_words(t.stage.replace("_", " ")), W_STAGE)
            # argument names and enum values: "spot", "serverless", "xgboost", "hourly" ...
            arg_words: list[str] = []
            enum_words: list[str] = []
            for f in t.fields.values():
                arg_words.append(f.name.replace("_", " "))
                enum_words.extend(str(v).replace("_", " ") for v in (*f.enum, *f.item_enum))
            put(content_words(" ".join(arg_words)), W_ARGS)
            # a choice the tool offers ("kmeans", "serverless") says more than an argument name
            put(content_words(" ".join(enum_words)), W_ENUM)
            name_words = content_words(t.name.replace("_", " "), fold=False)
            put(name_words, W_NAME)
            phrases = [content_words(p) for p in t.phrases]
            for p in phrases:
                put(p, W_PHRASE)
            # synonyms of the tool's own words count a little, so "make" finds "create"
            for word in list(doc):
                for syn in expand([word])[1:]:
                    if syn not in doc:
                        doc[syn] = doc[word] * 0.35
            self.docs[t.name] = doc
            self.phrase_tokens[t.name] = [p for p in phrases if p] + [name_words]
            # the name's verb is its first verb word: "list" in sagemaker_list_training_jobs,
            # not "train" (there it is the object)
            verbs = {w for w in name_words if w in _VERBS}
            first_verb = next((w for w in name_words if w in _VERBS), None)
            verbs = {first_verb} if first_verb else verbs
            objects = {w for w in name_words if w not in verbs}
            for phrase in t.phrases:
                first = raw_words(fold_phrases(phrase))[:1]
                if not first or first[0] in STOPWORDS:
                    continue
                # "training job status": a noun from the tool's name, not a verb
                if first[0].endswith(("ing", "s")) and stem(first[0]) in objects:
                    continue
                verbs.add(stem(first[0]))
            self.verbs[t.name] = verbs
        n = max(len(tools), 1)
        df: dict[str, int] = {}
        for doc in self.docs.values():
            for word in doc:
                df[word] = df.get(word, 0) + 1
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self.avg_len = sum(len(d) for d in self.docs.values()) / max(len(self.docs), 1) or 1.0
        self.vocab = Vocabulary(self.idf)
        raw: set[str] = set()
        for t in tools:
            for text in (t.description, t.name.replace("_", " "), *t.phrases, *t.extra_words):
                raw.update(raw_words(text))
        raw.update(w for ws in _EXTRA_RAW for w in ws.split())
        for t in tools:
            for f in t.fields.values():
                raw.update(raw_words(f.name.replace("_", " ")))
                for v in (*f.enum, *f.item_enum):
                    raw.update(raw_words(str(v).replace("_", " ")))
        for phrase, _ in PHRASE_FOLDS:
            raw.update(raw_words(phrase))
        self.typos = Typos(raw, known_stems=set(self.idf))
        self.verb_vocab = set().union(*self.verbs.values()) if self.verbs else set()
        # the things tools act on ("job", "bucket", "endpoint"): their plurals ask for lists
        self.object_words = {
            stem(w) for t in tools for w in t.name.split("_")[1:] if stem(w) not in _VERBS
        }
        from agent.offline.semantic import ToolVectors, tool_texts

        self.vectors = ToolVectors({t.name: tool_texts(t) for t in tools})

    def semantic_scores(self, text: str) -> dict[str, float]:
        """Each tool's similarity to the text in standard deviations above the tool set's
        mean ({} without the model), so the weight means the same for every request."""
        sims = self.vectors.similarity(text)
        if len(sims) < 2:
            return {}
        mean = statistics.fmean(sims.values())
        spread = statistics.pstdev(sims.values()) or 1.0
        return {name: (value - mean) / spread for name, value in sims.items()}

    def plural_object(self, text: str) -> bool:
        """ "which models", "show buckets": a thing tools act on, in the plural."""
        return bool(self.plural_stems(text))

    def plural_stems(self, text: str) -> set[str]:
        """The things named in the plural ("training jobs" -> {"train", "job"} as stems)."""
        words = raw_words(text)
        out: set[str] = set()
        for i, w in enumerate(words):
            if w.endswith("s") and len(w) > 3 and stem(w) != w and stem(w) in self.object_words:
                out.add(stem(w))
                if i and stem(words[i - 1]) in self.object_words:
                    out.add(stem(words[i - 1]))  # "training jobs", "feature groups"
        return out

    @staticmethod
    def knowledge_hint(tool: str, text: str) -> float:
        """Among the knowledge tools: a named service -> describe it; a goal -> recommend."""
        from agent.offline.extract import match_service, services_named

        service = match_service(text) is not None
        several = len(services_named(text)) > 1  # "feature store or s3?": a choice between
        recommend = several or (
            bool(_RECOMMEND_WORDS.search(text))
            and not (service and (_DESCRIBE_WORDS.search(text) or _NATURE_WORDS.search(text)))
        )
        stages = (
            bool(re.search(r"(?i)\b(stages?|steps|phases|workflow|overview|lifecycle)\b", text))
            and not recommend
        )
        if tool == "describe_service":
            if several:
                return -6.0  # a choice between services is a recommendation
            return 4.0 if service and not recommend else 0.0
        if tool == "recommend_services":
            return 4.0 if recommend or not service else 0.0
        if tool == "list_stages":
            return 5.0 if stages and not service else -6.0
        return 0.0

    def _purpose_words(self, text: str) -> set[str]:
        """Words of a purpose clause after the main verb ("train X to find anomalies"):
        they say why, not what to run."""
        out: set[str] = set()
        for m in re.finditer(
            r"(?i)\b(?:to|in order to|so(?: that)?(?: \w+){0,2} (?:can|could|will))\s+([a-z]+)",
            text,
        ):
            if stem(m.group(1).lower()) not in self.verb_vocab:
                continue
            before = content_words(text[: m.start()])
            if not any(w in self.verb_vocab for w in before):
                continue  # "i'd like to train": that is the main verb itself
            clause = re.split(r"(?i)[,;.]|\b(?:with|using|on|and|then)\b", text[m.start() :])[0]
            out.update(content_words(clause))
        return out

    def query_terms(self, text: str) -> dict[str, float]:
        terms: dict[str, float] = {}
        purpose = self._purpose_words(text)
        # "I uploaded a file, can you check it": what the person did is context, not the order
        told = {
            stem(m.group(1).lower())
            for m in re.finditer(
                r"(?i)\b(?:i|we|i'?ve|we'?ve|i have|we have|i just|we just|already)\s+(\w+ed)\b",
                text,
            )
        }
        for word in content_words(text):
            again = stem(word)  # "biased" -> "bias" -> "bia", as "bias" itself stems
            if word in self.vocab:
                fixed: str | None = word
            elif again in self.vocab:
                fixed = again
            else:
                fixed = self.vocab.correct(word)
            if fixed is None:
                continue
            weight = 1.0 if fixed == word else 0.85
            if word in purpose or word in told:
                weight = 0.4
            terms[fixed] = max(terms.get(fixed, 0.0), weight)
            for syn in expand([fixed])[1:]:
                terms[syn] = max(terms.get(syn, 0.0), weight * 0.6)
        return terms

    def rank(
        self,
        text: str,
        *,
        limit: int = 8,
        context_kinds: tuple[str, ...] = (),
        specific: bool = False,
    ) -> list[Candidate]:
        """`specific`: the request names concrete things (a URI, an ARN, a name), so it is
        about those and not a question about AWS services in general."""
        from agent.offline.extract import match_service, services_named

        terms = self.query_terms(text)
        if not terms and not context_kinds:
            return []
        question = bool(_QUESTION.search(text))
        knowledge_form = (
            question
            and not specific
            and (bool(_KNOWLEDGE_WORDS.search(text)) or len(services_named(text)) > 1)
            and not re.search(r"(?i)\bwhat(?: is|'s|s) (in|inside|running|the status)\b", text)
        )
        if (
            knowledge_form
            and _PERSONAL.search(text)
            and re.search(r"(?i)\b(cost|costs|costing|spen[dt]|bill\w*|charg\w*)\b", text)
            and not _RECOMMEND_WORDS.search(text)
        ):
            knowledge_form = False  # "what does my endpoint cost": about what is running
        # "how is autopilot billed?", "when should I not use DataBrew?": about the service itself
        about_service = (
            knowledge_form
            and bool(_NATURE_WORDS.search(text))
            and not _PERSONAL.search(text)
            and match_service(text) is not None
        ) or (knowledge_form and len(services_named(text)) > 1)
        # "which jobs failed", "show buckets": a plural object and no single name favours lists,
        # those of the things named when a list tool lists them ("training jobs that are still
        # running" -> the training jobs, not everything that runs)
        plural_stems = self.plural_stems(text)
        plural = bool(plural_stems)
        named_lists = {
            t.name
            for t in self.tools
            if "_list_" in f"_{t.name}_"
            and plural_stems & {stem(w) for w in t.name.split("_")[1:]} - _VERBS
        }
        # "any hpo jobs in progress?", "do I have endpoints": asking which exist
        any_of = bool(
            re.search(
                r"(?i)^\s*(any|are there|do (i|we) have|got any)\b|\bany (of )?(my |the |our )?(\w+ )?\w+s\b|"
                r"\b(have|has|did) (i|we) got\b|\bwhat (\w+ )?\w+s (are|do|have|did|exist)\b|"
                r"\bwhich (\w+ )?\w+s\b",
                text,
            )
        )
        # the verbs typed, and the verbs they stand for ("kick" -> start, "abort" -> stop)
        typed = [w for w, qw in terms.items() if qw >= 0.85]
        asked_verbs = {w for w in typed if w in self.verb_vocab}
        for word in typed:
            if word not in self.verb_vocab and word not in self.object_words:
                asked_verbs.update(x for x in expand([word])[1:] if x in self.verb_vocab)
        first_word = next(iter(raw_words(text)), "")
        ordered = stem(first_word) in self.verb_vocab  # "list everything you created"
        if not ordered and re.search(
            r"(?i)\b(did|have|has) (you|sagecoach)\b|\byou (created|made|started)\b|"
            r"^\s*(what|which|how many|how much|when|where)\b.*\bdid\b",
            text,
        ):
            asked_verbs = set()  # a question about what happened, not an order
        # "any alarms going off?", "what searches have I got going": asking which exist, with
        # no name given; its verbs ("going off", "set up") describe the things, not an order
        existence = (
            any_of
            and not specific
            and not knowledge_form
            and (question or bool(_EXISTENCE_LEAD.search(text)))
        )
        if existence:
            asked_verbs = set()
        asked_expanded = set(expand(asked_verbs))
        # the first verb is what the person asks for ("train ... to find anomalies")
        first_verb = next(
            (
                v
                for w in typed
                for v in ([w] if w in self.verb_vocab else expand([w])[1:])
                if v in asked_verbs
            ),
            None,
        )
        first_expanded = set(expand([first_verb])) if first_verb else set()
        vague = len([w for w, qw in terms.items() if qw >= 0.85]) <= 3
        typed_terms = {w for w, qw in terms.items() if qw >= 0.85}
        signal = ranking_signal()
        semantic = self.semantic_scores(text) if signal != "lexical" else {}
        out: list[Candidate] = []
        raw: dict[str, float] = {}
        for t in self.tools:
            doc = self.docs[t.name]
            score = 0.0
            for word, qw in terms.items():
                if word in doc:
                    score += qw * doc[word] * self.idf.get(word, 0.0)
            raw[t.name] = score / (max(len(doc), 1) / self.avg_len) ** 0.35
        # Word overlap on a 0-10 scale, so the bonuses below weigh the same for every request.
        scale = 10.0 / max(max(raw.values(), default=0.0), 1e-9)
        for t in self.tools:
            text_score = raw[t.name] * scale
            cover = 0.0
            for phrase in self.phrase_tokens[t.name]:
                total = sum(self.idf.get(w, 0.5) for w in phrase)
                if not total:
                    continue
                hit = sum(self.idf.get(w, 0.5) * terms[w] for w in phrase if w in terms)
                # a one-word phrase ("what did you create" -> create) is no more than a word,
                # unless it is all the request says
                weak = len(phrase) == 1 and not typed_terms <= set(phrase)
                cover = max(cover, hit / total * (0.6 if weak else 1.0))
            total_score = text_score + 6.0 * cover
            # The person's verb against the tool's verbs (its name's and its phrases' first words).
            tool_verbs = self.verbs[t.name]
            if asked_verbs and tool_verbs:
                if tool_verbs & first_expanded:
                    total_score += 2.0
                elif tool_verbs & asked_expanded:
                    total_score += 0.5
                else:
                    # none of the person's verbs is the tool's; for a tool that bills or
                    # deletes that rules it out ("list everything you created")
                    total_score -= 7.5 if t.risk in ("costly", "destructive") else 1.5
            if question and "wait" in tool_verbs and "wait" not in terms:
                total_score -= 2.0  # a question about state ("has it finished?") is not "wait"
            if t.name in KNOWLEDGE_TOOLS:
                total_score += 8.0 if knowledge_form else (-1.0 if not question else 0.0)
                total_score += self.knowledge_hint(t.name, text) if knowledge_form else 0.0
            elif knowledge_form:
                # a question about a service, or one that would bill or delete, is not an order
                total_score -= 6.0 if about_service or t.risk in ("costly", "destructive") else 2.0
            lists_it = "_list_" in f"_{t.name}_" and (not named_lists or t.name in named_lists)
            if existence:
                # asking what exists is answered by a list, not by making, starting or
                # describing one thing the request does not name
                total_score += 5.0 if lists_it else -2.0
            elif plural and lists_it and (not ordered or tool_verbs & first_expanded):
                # ("create a stream for clickstream events": the plural is not what to list)
                total_score += 3.5 if any_of else 2.5
            elif plural and named_lists and "_list_" in f"_{t.name}_":
                total_score -= 2.0  # a list of other things than the ones named
            if context_kinds and t.context_kind in context_kinds and not knowledge_form:
                # "how's it going?": with few words of its own, "it" decides
                total_score += 4.0 if vague else 1.5
            # A question about services is settled by its form; meaning cannot tell it from an
            # order about the same thing ("where should features live" vs "list feature groups").
            sem = 0.0 if knowledge_form else semantic.get(t.name, 0.0)
            sem = min(max(sem, SEMANTIC_BAND[0]), SEMANTIC_BAND[1])
            if signal == "semantic":
                total_score = 10.0 + 3.0 * sem
            else:
                total_score += W_SEMANTIC * sem
            out.append(Candidate(t, total_score, raw[t.name], cover, sem))
        out.sort(key=lambda c: (-c.score, c.tool.name))
        return out[:limit]
