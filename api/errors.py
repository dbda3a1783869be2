"""Every error is JSON with a message a person can act on: {"error": ..., "detail": ...}."""
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from campaign.assignment import AssignmentError


def _where(location: tuple) -> str:
    return ".".join(str(part) for part in location if part != "body") or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(status_code=422, content={"error": "; ".join(problems), "detail": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)}, headers=exc.headers)

    @app.exception_handler(AssignmentError)
    async def unassignable(_: Request, exc: AssignmentError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"error": f"cannot assign a team: {exc}"})
