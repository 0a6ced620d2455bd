"""The same echo on the Microsoft 365 Agents SDK (microsoft-agents-hosting-aiohttp 1.9.0 and,
as in the sample, microsoft-agents-authentication-msal 1.9.0), built as its quickstart sample
builds it: an AgentApplication with MemoryStorage on the aiohttp CloudAdapter, the JWT
authorization middleware, start_agent_process. It runs in a virtual environment of its own
(bench/.agents-venv, made by `python -m bench`): the SDK's pins differ from the bot's. With no
client id and ANONYMOUS_ALLOWED the SDK accepts anonymous requests, like the stock sample with no
app id."""

import os

from aiohttp.web import Application, Request, Response, run_app
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_middleware,
    start_agent_process,
)
from microsoft_agents.hosting.core import (
    AgentApplication,
    MemoryStorage,
    TurnContext,
    TurnState,
)

agents_sdk_config = load_configuration_from_env(os.environ)

STORAGE = MemoryStorage()
CONNECTION_MANAGER = MsalConnectionManager(**agents_sdk_config)
ADAPTER = CloudAdapter(connection_manager=CONNECTION_MANAGER)
AGENT_APP = AgentApplication[TurnState](
    storage=STORAGE, adapter=ADAPTER, connection_manager=CONNECTION_MANAGER, **agents_sdk_config
)


@AGENT_APP.activity("message")
async def on_message(context: TurnContext, _state: TurnState) -> None:
    await context.send_activity(f"Echo: {context.activity.text}")


def start_server(agent_application: AgentApplication, auth_configuration: object) -> None:
    async def entry_point(req: Request) -> Response:
        agent: AgentApplication = req.app["agent_app"]
        adapter: CloudAdapter = req.app["adapter"]
        return await start_agent_process(req, agent, adapter)

    app = Application(middlewares=[jwt_authorization_middleware])
    app.router.add_post("/api/messages", entry_point)
    app["agent_configuration"] = auth_configuration
    app["agent_app"] = agent_application
    app["adapter"] = agent_application.adapter
    run_app(app, host=os.environ.get("HOST", "localhost"), port=int(os.environ.get("PORT", 3978)))


if __name__ == "__main__":
    start_server(AGENT_APP, CONNECTION_MANAGER.get_default_connection_configuration())
