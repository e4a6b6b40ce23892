"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from server import __doc__ as server_doc
from server.config import ConfigError, Settings
from server.db.engine import check_connection, make_engine
from stormcom_pos import __version__


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    app = FastAPI(title="StormCom server", version=__version__, description=server_doc or "")
    app.state.settings = settings
    app.state.engine = engine

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"])
    def ready() -> JSONResponse:
        """Readiness: the database answers."""
        try:
            check_connection(engine)
        except ConfigError as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready"})

    return app
