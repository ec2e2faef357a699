"""The offline planner: a deterministic chat model that turns requests into tool calls.

No LLM is involved; it is labelled "offline planner — no LLM" wherever it is shown.
"""

from agent.offline.model import OfflinePlanner
from agent.offline.planner import LABEL, Planner, split_steps

__all__ = ["LABEL", "OfflinePlanner", "Planner", "split_steps"]
