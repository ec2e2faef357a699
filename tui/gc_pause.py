"""Start-up without the cyclic garbage collector.

Opening a session allocates ~230,000 objects that live as long as the process (LangChain,
LangGraph, pydantic and botocore models, the tool registry) and almost no cyclic garbage
(~2,000 objects). With the collector on, it rescans them again and again while they are
created: about a third of the CPU time of `sagecoach ask` (0.5-1 s). So the front ends pause it
while they start, and on resuming move everything start-up made to the permanent generation
(`gc.freeze`), which later collections skip (no long pauses in the app either).
"""

from __future__ import annotations

import gc

_paused = False


def pause_collection() -> None:
    """Stop automatic collection until `resume_collection` (no-op when already off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Freeze what start-up made and collect automatically again (only if we paused it)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
