"""The prepared reads of disclose/lookups.py answer exactly as the subject registry's own functions."""

from __future__ import annotations

from xinyong.disclose.lookups import subject_id_for, subject_row
from xinyong.subjects.service import find_subject_id, get_subject

from .builders import COMPANY, PERSON_ID, Timeline


def test_same_answers_as_the_registry(timeline: Timeline) -> None:
    runtime = timeline.runtime
    with runtime.engine.connect() as conn:
        for code in (COMPANY, COMPANY[8:17], COMPANY.lower(), PERSON_ID, "91420100MA4K9999XX", "nothing"):
            expected = find_subject_id(conn, code, protector=runtime.protector)
            assert subject_id_for(conn, code, protector=runtime.protector) == expected, code
        for subject_id in (timeline.company_id, timeline.person_id):
            assert subject_row(conn, subject_id) == get_subject(conn, subject_id)
        assert subject_row(conn, 10**9) is None
