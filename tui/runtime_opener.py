"""Opening the real session for the app, off the UI thread, on the shared sandbox if needed."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agent.session_api import ChatSession

if TYPE_CHECKING:  # agent.settings imports pydantic-settings: loaded after the first frame
    from agent.settings import Settings


class RuntimeOpener:
    """Opens the real session (agent.startup.open_session) without blocking the UI's event loop.

    The slow parts (langchain and boto3 imports; finding or starting the sandbox) run in a
    thread. Who owns the sandbox is explicit:
    - by default the session uses the state directory's shared sandbox (`sandbox.daemon`),
      found running or started in the background. The app never stops it: it outlives the
      app (a later `sagecoach ask` finds the same state) and stops by itself when idle;
    - with `sandbox_in_process=True` (tests) the opener starts a sandbox in this process,
      nothing persisted, reuses it when the session is reopened, and `close` stops it.
    """

    def __init__(self, *, sandbox_in_process: bool = False) -> None:
        self.sandbox_in_process = sandbox_in_process
        self.owned_sandbox: Any = None  # a sandbox.server.Sandbox this opener started
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
        if self.sandbox_in_process:
            if self.owned_sandbox is None:
                from sandbox.server import Sandbox

                sandbox = Sandbox()
                sandbox.start()
                self.owned_sandbox = sandbox
            return str(self.owned_sandbox.endpoint)
        from sandbox import daemon

        return daemon.connect(settings.state_dir)  # shared: never stopped by the app

    async def __call__(self, settings: Settings, conversation: str | None) -> ChatSession:
        from tui.gc_pause import resume_collection

        try:
            endpoint = await asyncio.to_thread(self._prepare, settings)
            from agent.startup import open_session

            # The app says at once who has a conversation open (ask waits for its turn instead).
            return await open_session(
                settings, conversation=conversation, sandbox_endpoint=endpoint, lock_wait_s=2.0
            )
        finally:
            resume_collection()  # paused by tui/launch.py while the app started

    def close(self) -> None:
        """Stop the sandbox this opener started, if any, without holding up the app's exit
        (moto's server takes ~0.3 s to notice; its thread is a daemon, so a quitting process
        does not wait for it). The shared sandbox is left running."""
        sandbox, self.owned_sandbox = self.owned_sandbox, None
        if sandbox is not None:
            import threading

            threading.Thread(target=sandbox.stop, name="sandbox-stop", daemon=True).start()
