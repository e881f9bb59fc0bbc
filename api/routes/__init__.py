"""All routers, gathered for api.main."""

from fastapi import APIRouter

from api.routes import channels, health, reports, search

api_router = APIRouter(prefix="/api")
api_router.include_router(health.router)
api_router.include_router(channels.router)
api_router.include_router(reports.router)
api_router.include_router(search.router)
