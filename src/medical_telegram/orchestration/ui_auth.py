"""Airflow login for the apps our plugins mount in the api-server (the Data Docs, the Pipeline monitor).

Airflow authenticates its own API but not the FastAPI apps plugins add, so each of ours checks the caller
itself: every request must carry a valid Airflow JWT, as the UI's `_token` cookie (a logged-in browser) or a
Bearer header. Airflow's own validation does the check (signature, expiry, revocation): no token 401, a bad
one 403. It is a middleware, not a route dependency, because mounted static sites never reach dependencies.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.core_api.security import resolve_user_from_token


def require_airflow_login(app: FastAPI) -> FastAPI:
    @app.middleware("http")
    async def airflow_login(request: Request, call_next):
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        try:
            await resolve_user_from_token(token)
        except HTTPException as refused:
            return JSONResponse({"detail": refused.detail}, status_code=refused.status_code)
        return await call_next(request)

    return app
