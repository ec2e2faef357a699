"""The stage catalog assembled from each stage's `catalog.py`, and looking things up in it."""

from __future__ import annotations

from types import ModuleType

from tools.catalog.model import Service, Stage
from tools.catalog.words import name_key, split_words, stem_key
from tools.core.stages import STAGES
from tools.stages.collection import catalog as collection
from tools.stages.deployment import catalog as deployment
from tools.stages.evaluation import catalog as evaluation
from tools.stages.features import catalog as features
from tools.stages.monitoring import catalog as monitoring
from tools.stages.orchestration import catalog as orchestration
from tools.stages.preparation import catalog as preparation
from tools.stages.training import catalog as training
from tools.stages.tuning import catalog as tuning

# Each stage's catalog data, in pipeline order.
STAGE_DATA: dict[str, ModuleType] = {
    "collection": collection,
    "preparation": preparation,
    "features": features,
    "training": training,
    "tuning": tuning,
    "evaluation": evaluation,
    "deployment": deployment,
    "monitoring": monitoring,
    "orchestration": orchestration,
}
SERVICES: tuple[Service, ...] = tuple(svc for data in STAGE_DATA.values() for svc in data.SERVICES)

_BY_ID: dict[str, Service] = {s.id: s for s in SERVICES}


# Each stage's services in the order we present them (from each stage's catalog).
STAGE_ORDER: dict[str, tuple[str, ...]] = {
    sid: data.SERVICE_ORDER for sid, data in STAGE_DATA.items()
}


STAGE_CATALOG: tuple[Stage, ...] = tuple(
    Stage(
        id=sid,
        number=number,
        title=title,
        purpose=STAGE_DATA[sid].PURPOSE,
        services=STAGE_ORDER[sid],
        keywords=STAGE_DATA[sid].KEYWORDS,
    )
    for sid, number, title in STAGES
)
STAGES_BY_ID: dict[str, Stage] = {s.id: s for s in STAGE_CATALOG}


def services() -> tuple[Service, ...]:
    return SERVICES


def stages() -> tuple[Stage, ...]:
    return STAGE_CATALOG


def get_stage(stage: str) -> Stage | None:
    """A stage by id ('training'), number ('4') or title words ('model training')."""
    key = stage.strip().lower()
    if key in STAGES_BY_ID:
        return STAGES_BY_ID[key]
    for st in STAGE_CATALOG:
        if key in (str(st.number), st.title.lower()) or name_key(st.title) == name_key(key):
            return st
    for st in STAGE_CATALOG:  # loose: "feature engineering" -> features, "eda" -> preparation
        words = set(split_words(key))
        if words and (words & set(st.keywords) or words <= set(split_words(st.title))):
            return st
    return None


def get_service(service_id: str) -> Service:
    return _BY_ID[service_id]


def stage_services(stage: str) -> list[Service]:
    st = get_stage(stage)
    return [_BY_ID[i] for i in st.services] if st else []


def find_service(name: str) -> Service | None:
    """A service by id, name or alias, with or without 'Amazon'/'AWS'/'SageMaker' in front."""
    raw = name.strip().lower()
    if raw in _BY_ID:
        return _BY_ID[raw]
    for svc in SERVICES:
        if raw == svc.name.lower() or raw in (a.lower() for a in svc.aliases):
            return svc
    key = name_key(name)
    if not key:
        return _BY_ID["sagemaker"] if "sagemaker" in raw else None
    for svc in SERVICES:
        if key == name_key(svc.name) or key in (name_key(a) for a in svc.aliases) or key == svc.id:
            return svc
    stems = stem_key(key)  # "endpoint" finds "Endpoints", "processing job" finds "Processing Jobs"
    for svc in SERVICES:
        if stems in (stem_key(name_key(n)) for n in (svc.name, *svc.aliases)):
            return svc
    return None


def suggest_services(name: str, limit: int = 3) -> list[Service]:
    """Closest services for a name that did not match, by shared words and then spelling."""
    import difflib

    words = set(split_words(name_key(name)))
    scored = []
    for svc in SERVICES:
        names = [svc.name, *svc.aliases]
        overlap = max(len(words & set(split_words(name_key(n)))) for n in names)
        ratio = max(
            difflib.SequenceMatcher(None, name_key(name), name_key(n)).ratio() for n in names
        )
        scored.append((overlap, ratio, svc))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    return [svc for overlap, ratio, svc in scored[:limit] if overlap or ratio > 0.5]


def services_using_tool(tool_name: str) -> list[Service]:
    return [s for s in SERVICES if tool_name in s.tools]


def all_tool_names() -> set[str]:
    return {t for s in SERVICES for t in s.tools}
