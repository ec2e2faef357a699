"""Opening the real session for the app, off the UI thread, on the shared sandbox if needed."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agent.session_api import ChatSession

if TYPE_CHECKING:  # agent.settings imports pydantic-settings: loaded after the first frame
    from agent.settings import Settings


class RuntimeOpener:
    """Opens the real session (agent.startup.open_session) without blocking the UI's event loop.

    The slow parts (langchain and boto3 imports; finding or starting the shared sandbox) run
    in a thread. `close` stops only a sandbox this opener owns (`self.sandbox`, none by default).
    """

    def __init__(self) -> None:
        self.sandbox: Any = None
        self.reason = ""

    def _prepare(self, settings: Settings) -> str | None:
        import agent.startup  # noqa: F401  (heavy imports, off the UI thread)
        from agent.environment import choose_sandbox
        from tools.core.registry import load_all

        load_all()
        use_sandbox, self.reason = choose_sandbox(settings)
        if settings.model == "offline" or (use_sandbox and not settings.model):
            from agent.offline.model import warm_up

            warm_up()  # the planner's embedding model loads while the sandbox starts
        if not use_sandbox:
            return None
        from sandbox import daemon

        # The state directory's shared sandbox (started in the background when none runs; it
        # outlives the app, so a later `sagecoach ask` finds the same state, and stops by
        # itself when idle).
        return daemon.connect(settings.state_dir)

    async def __call__(self, settings: Settings, conversation: str | None) -> ChatSession:
        endpoint = await asyncio.to_thread(self._prepare, settings)
        from agent.startup import open_session

        return await open_session(settings, conversation=conversation, sandbox_endpoint=endpoint)

    def close(self) -> None:
        """Stop the sandbox without holding up the app's exit (moto's server takes ~0.3 s to
        notice; its thread is a daemon, so a quitting process does not wait for it)."""
        if self.sandbox is not None:
            import threading

            threading.Thread(target=self.sandbox.stop, name="sandbox-stop", daemon=True).start()
            self.sandbox = None
