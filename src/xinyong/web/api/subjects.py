"""Subjects in the JSON API. Thin: the subject registry's service functions do the work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from xinyong.subjects import service

router = APIRouter(prefix="/api/v1", tags=["subjects"])


@router.get("/subjects/{code}", summary="A subject by any of its identifiers / 按任一代码查询信用主体")
def get_subject(code: str, request: Request) -> dict[str, Any]:
    runtime = request.app.state.runtime
    with runtime.engine.connect() as conn:
        subject_id = service.find_subject_id(conn, code, protector=runtime.protector)
        if subject_id is None:
            raise HTTPException(
                status_code=404,
                detail={
                    "code": "subject.not_found",
                    "message_zh": f"未找到代码为 {code} 的信用主体",
                    "message_en": f"No credit subject has the identifier {code}",
                },
            )
        return service.get_subject(conn, subject_id)
