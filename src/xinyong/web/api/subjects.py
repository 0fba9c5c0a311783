"""Subjects in the JSON API. Thin: the subject registry's service functions do the work.

The view depends on the disclosure level asked for: `public` masks a natural person's name; a higher
level shows it, needs the audience for it (the subject itself, an authorised agency, a government body,
the platform) and a declared purpose, and is written to the audit trail.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from xinyong.security import audit
from xinyong.security.access import audience_for, check, consume_quota, declared_purpose
from xinyong.security.masking import mask_ids_in_text, mask_subject_names
from xinyong.security.principal import Principal
from xinyong.security.roles import Level
from xinyong.subjects import service
from xinyong.web.deps import client_ip, permission, runtime_of

router = APIRouter(prefix="/api/v1", tags=["subjects"])


@router.get("/subjects/{code}", summary="A subject by any of its identifiers / 按任一代码查询信用主体")
def get_subject(
    code: str,
    request: Request,
    level: Annotated[
        Level, Query(description="披露方式 / disclosure level: public, authorised, government")
    ] = "public",
    purpose: Annotated[
        str | None,
        Query(max_length=200, description="查询目的，非公开级别必填 / purpose, required above public"),
    ] = None,
    principal: Principal = permission("subject.read"),
) -> dict[str, Any]:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        subject_id = service.find_subject_id(conn, code, protector=runtime.protector)
        if subject_id is None:
            shown = mask_ids_in_text(code)
            raise HTTPException(
                status_code=404,
                detail={
                    "code": "subject.not_found",
                    "message_zh": f"未找到代码为 {shown} 的信用主体",
                    "message_en": f"No credit subject has the identifier {shown}",
                },
            )
        audience = audience_for(conn, principal, subject_id=subject_id, clock=runtime.clock, purpose=purpose)
        check(principal, "subject.read", level=level, audience=audience)
        declared = declared_purpose(purpose, level=level, audience=audience)
        if level != "public":
            if audience == "authorised":
                consume_quota(conn, principal, runtime.clock)
            audit.record(
                conn,
                principal=principal,
                action="subject.read",
                clock=runtime.clock,
                object_type="subject",
                object_id=subject_id,
                subject=audit.SubjectRef.of_subject(conn, subject_id),
                level=level,
                purpose=declared,
                ip=client_ip(request),
            )
        subject = service.get_subject(conn, subject_id)
    shown_subject = subject if level != "public" else mask_subject_names(subject)
    return {**shown_subject, "level": level, "audience": audience}
