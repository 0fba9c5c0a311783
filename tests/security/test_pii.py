"""Personal identifiers at rest, masking for display, and ID numbers kept out of the logs."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from xinyong.config import Settings
from xinyong.logging import find_id_numbers, mask_record
from xinyong.problems import ProblemError
from xinyong.security.masking import mask_id_number, mask_ids_in_text, mask_person_name, mask_subject_names
from xinyong.security.pii import PersonalIdProtector, generate_key, load_protector
from xinyong.store.engine import make_engine
from xinyong.store.schema import metadata

from .conftest import PASSWORD, PERSON_ID, World

OLD_ID = "110105491231002"  # the 15-digit form of the same person


def test_blind_index_is_deterministic_keyed_and_normalised(protector: PersonalIdProtector) -> None:
    assert protector.blind_index(PERSON_ID) == protector.blind_index(" 11010519491231002x ")
    assert protector.blind_index(PERSON_ID) != PersonalIdProtector(bytes(64)).blind_index(PERSON_ID)
    assert PERSON_ID not in protector.blind_index(PERSON_ID)


def test_encryption_is_authenticated_and_randomised(protector: PersonalIdProtector) -> None:
    a, b = protector.encrypt(PERSON_ID), protector.encrypt(PERSON_ID)
    assert a != b and protector.decrypt(a) == PERSON_ID
    tampered = a[:-1] + bytes([a[-1] ^ 1])
    with pytest.raises(InvalidTag):
        protector.decrypt(tampered)


def test_demo_key_only_in_demo_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XINYONG_PII_KEY", raising=False)
    home = tmp_path / "home"
    with pytest.raises(ProblemError, match="pii_key_missing"):
        load_protector(Settings(home=home, database_url="sqlite://"))
    demo = Settings(home=home, database_url="sqlite://", demo=True)
    first = load_protector(demo)
    key_file = home / "keys" / "pii.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_protector(demo).blind_index(PERSON_ID) == first.blind_index(PERSON_ID)  # stable across starts
    monkeypatch.setenv("XINYONG_PII_KEY", key_file.read_text())
    with pytest.raises(ProblemError, match="pii_demo_key"):
        load_protector(Settings(home=home, database_url="sqlite://"))  # the demo key, outside demo mode


def test_configured_key_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path, database_url="sqlite://")
    monkeypatch.setenv("XINYONG_PII_KEY", base64.b64encode(os.urandom(16)).decode())
    with pytest.raises(ProblemError, match="pii_key_invalid"):
        load_protector(settings)
    monkeypatch.setenv("XINYONG_PII_KEY", "not base64 at all!")
    with pytest.raises(ProblemError, match="pii_key_invalid"):
        load_protector(settings)
    monkeypatch.setenv("XINYONG_PII_KEY", generate_key())
    assert load_protector(settings).decrypt(load_protector(settings).encrypt("x")) == "x"


def test_masking_follows_the_policy() -> None:
    assert mask_id_number("420102199001011234") == "4201**********1234"
    assert mask_person_name("张三") == "张*" and mask_person_name("张三丰") == "张**"
    assert mask_id_number(None) is None and mask_person_name("") == ""
    subject = {"kind": "natural_person", "name": "张三丰", "names": [{"name": "张三丰", "role": "current"}]}
    assert mask_subject_names(subject)["names"][0]["name"] == "张**"
    company = {"kind": "legal_person", "name": "某公司", "names": []}
    assert mask_subject_names(company) is company


def test_text_masking_catches_every_shape_of_id_number() -> None:
    text = f"a={PERSON_ID} b=id{PERSON_ID.lower()} c={OLD_ID} d=/subjects/{PERSON_ID}?x=1"
    masked = mask_ids_in_text(text)
    assert not find_id_numbers([masked]) and PERSON_ID not in masked and OLD_ID not in masked
    assert mask_ids_in_text("batch 12345678901234567890 of 91350100M000100Y43") == (
        "batch 12345678901234567890 of 91350100M000100Y43"  # longer digit runs and USCCs are not ID numbers
    )


SPACED_ID = "420106199001011231"  # valid (GB 11643 check digit); typed below as people type it
TYPED = {
    "spaces": "4201 0619 9001 0112 31",
    "hyphens": "420106-19900101-1231",
    "full-width": "４２０１０６１９９００１０１１２３１",
    "ideographic spaces": "420106\u300019900101\u30001231",
    "zero-width": "420106\u200b19900101\u200b1231",
    "spaced old 15-digit": "110105 491231 002",
    "lower-case x in groups": "110105 19491231 002x",
}


@pytest.mark.parametrize("form", TYPED)
def test_text_masking_catches_id_numbers_typed_in_groups_or_full_width(form: str) -> None:
    typed = TYPED[form]
    assert find_id_numbers([f"user {typed} signed in"]), "the log scanner must see this form in clear"
    masked = mask_ids_in_text(f"user {typed} signed in")
    assert not find_id_numbers([masked]) and typed not in masked
    assert masked.startswith("user ") and masked.endswith(" signed in") and "*" in masked


def test_numbers_that_only_look_grouped_stay_readable() -> None:
    for text in (
        "2026-06-15 10:00:00,123 INFO rows 1 2 3 4 5 6 7 8 9 10 11 12",
        "card 6222 0212 3456 7890 123",  # 19 digits: not an ID number
        "4201 0619 9001 0112 30",  # wrong check digit, typed in groups: nothing to mask
    ):
        assert mask_ids_in_text(text) == text
    assert mask_ids_in_text(f"x {SPACED_ID} 2 y") == "x 4201**********1231 2 y"


def test_a_spaced_id_number_typed_as_a_username_is_not_logged(suite_log: Path, world: World) -> None:
    response = world.client().post(
        "/api/v1/auth/login", json={"username": TYPED["spaces"], "password": "wrong-" + PASSWORD}
    )
    assert response.status_code == 401
    logging.getLogger("xinyong.test").warning("typed %s and %s", TYPED["hyphens"], TYPED["full-width"])
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = suite_log.read_text(encoding="utf-8")
    assert "failed sign-in for 4201**********1231" in text
    assert "typed 4201**********1231 and 4201**********1231" in text
    assert not find_id_numbers(text.splitlines())


def test_log_records_are_masked_whatever_their_shape(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("xinyong.test")
    with caplog.at_level(logging.INFO):
        log.info("looked up %s", PERSON_ID)
        log.info("as a number %d", int(PERSON_ID[:17] + "3"))
        log.info("%(who)s signed in", {"who": PERSON_ID})
        log.info("%s %s %s %s %d", "127.0.0.1", "GET", f"/api/v1/subjects/{PERSON_ID}", "1.1", 200)
        try:
            raise ValueError(f"bad number {PERSON_ID}")
        except ValueError:
            log.exception("failed")
    assert PERSON_ID not in caplog.text and "1101**********002X" in caplog.text
    access = caplog.records[3]
    assert (
        isinstance(access.args, tuple) and access.args[4] == 200
    )  # uvicorn's access formatter reads the tuple


def test_a_record_made_elsewhere_is_masked_by_the_filter() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "id %s", (PERSON_ID,), None)
    mask_record(record)
    assert PERSON_ID not in record.getMessage()


def test_this_suite_writes_its_logs_where_they_are_scanned(suite_log: Path, world: World) -> None:
    world.client().post("/api/v1/auth/login", json={"username": PERSON_ID, "password": "wrong-" + PASSWORD})
    logging.getLogger("xinyong.test").warning("a person typed %s into a form", PERSON_ID)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = suite_log.read_text(encoding="utf-8")
    assert "a person typed 1101**********002X into a form" in text
    assert "failed sign-in for 1101**********002X" in text
    assert not find_id_numbers(text.splitlines())


def test_no_secret_id_number_or_person_name_is_stored_in_clear(world: World) -> None:
    """Sign in, use a session, issue a token, look at the person: then read every table, every column."""
    from xinyong.security.tokens import issue_token

    from .conftest import PROVIDER

    client = world.client("person")
    session_cookie = client.cookies.get("xinyong_session")
    client.get(f"/api/v1/subjects/{PERSON_ID}", params={"level": "authorised"})
    world.client("government").get(
        f"/api/v1/subjects/{PERSON_ID}", params={"level": "government", "purpose": "审查"}
    )
    rt = world.runtime
    with rt.engine.begin() as conn:
        token = issue_token(
            conn,
            organisation_uscc=PROVIDER,
            role="provider",
            name="x",
            days=5,
            created_by="t",
            clock=rt.clock,
            max_days=366,
        ).token
    secrets = {
        "password": PASSWORD,
        "session": session_cookie,
        "token": token,
        "token secret": token[13:],
        "id number": PERSON_ID,
        "old id number": OLD_ID,
        "person's name": "张三丰",
    }
    dump: list[str] = []
    # Read as stored: an engine without the runtime's key, and no column type that would decode a value.
    keyless = make_engine(rt.engine.url.render_as_string(hide_password=False))
    with keyless.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.text(f'SELECT * FROM "{table.name}"')):
                dump += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
    keyless.dispose()
    text = "\n".join(dump)
    assert "1101**********002X" in text  # the person is there, masked
    assert "福州某某科技有限公司" in text  # an enterprise's name is public: in clear
    for what, secret in secrets.items():
        assert secret and secret not in text, f"{what} stored in clear"


def test_a_name_seals_to_the_same_text_under_one_key_and_to_another_under_another(
    protector: PersonalIdProtector,
) -> None:
    sealed = protector.seal_name("张伟")
    assert "张伟" not in sealed and sealed.startswith("sealed:v1:")
    assert protector.seal_name("张伟") == sealed  # what lets stored names still compare equal in SQL
    assert protector.seal_name(sealed) == sealed  # sealing twice is harmless
    assert PersonalIdProtector(bytes(64)).seal_name("张伟") != sealed
    assert protector.unseal(sealed) == "张伟"


def test_text_that_only_looks_sealed_reads_as_it_is(protector: PersonalIdProtector) -> None:
    sealed = protector.seal_name("张伟")
    for text in ("武汉华信科技有限公司", "sealed:v1:", "sealed:v1:!!", sealed[:-2] + "AA"):
        assert protector.unseal(text) == text
    assert PersonalIdProtector(bytes(64)).unseal(sealed) == sealed  # another key cannot open it


def test_an_engine_without_the_name_key_refuses_to_store_a_person_name(engine: sa.Engine) -> None:
    from xinyong.store.meta import PersonName
    from xinyong.subjects.models import subjects

    keyless = make_engine(engine.url.render_as_string(hide_password=False))
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    try:
        with pytest.raises(sa.exc.StatementError, match="no name key"), keyless.begin() as conn:
            conn.execute(
                subjects.insert().values(
                    kind="natural_person", name=PersonName("张伟"), created_at=now, updated_at=now
                )
            )
    finally:
        keyless.dispose()


@given(st.text(max_size=300))
def test_any_name_comes_back_from_its_seal_and_any_text_unseals_without_an_error(text: str) -> None:
    protector = PersonalIdProtector(bytes(range(64)))
    if not text.startswith("sealed:v1:"):
        sealed = protector.seal_name(text)
        assert sealed != text and protector.unseal(sealed) == text
        assert protector.unseal(text) == text  # text that is not sealed reads as it is
    # Text that only looks sealed (a provider can send anything) reads as it is; it never raises.
    assert protector.unseal("sealed:v1:" + text) == "sealed:v1:" + text
