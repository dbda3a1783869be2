"""Request bodies read with a limit, before anything is parsed.

A declared Content-Length over the limit is refused without reading; a chunked body (no length)
is read only up to the limit, then refused, so a client cannot make us buffer without end.
"""
from fastapi import HTTPException, Request

MAX_BODY = 64 * 1024


async def read_limited(request: Request, limit: int = MAX_BODY) -> bytes:
    too_large = HTTPException(413, f"the request body is larger than {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
