"""`dasl serve`: the HTTP API and web page on localhost."""

from __future__ import annotations

from typing import Annotated

import typer

from dasl.cli.common import SharedOption, app, console


@app.command()
def serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8765,
    host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0: every interface)")] = "127.0.0.1",
    model: Annotated[str, typer.Option("--model", "-m", help="the model a request gets by default")] = "default",
    also: Annotated[
        list[str] | None, typer.Option("--also", help="further models a request may name (repeatable)")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="requests reconstructed at once")] = 2,
    max_mb: Annotated[float, typer.Option(min=0.1, help="largest upload in megabytes")] = 25.0,
    shared: SharedOption = None,
) -> None:
    """An HTTP API (POST /reconstruct) and a web page (GET /) that reconstruct uploaded photos."""
    from dasl.errors import require

    uvicorn = require("uvicorn", "dasl serve")
    require("starlette", "dasl serve")
    require("multipart", "dasl serve")
    from dasl.serve.app import ServeSettings, make_app

    settings = ServeSettings(
        model, tuple(also or ()), workers, int(max_mb * 1024 * 1024), shared=shared and str(shared)
    )
    console.print(f"dasl serving {model} on http://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(make_app(settings), host=host, port=port, log_level="warning")
