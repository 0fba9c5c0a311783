"""Webhook delivery against a real receiver on 127.0.0.1: back-off after a failure, delivery once it
answers, dead-letter after the policy's attempts, list-type filters, subscription refusals. Both databases."""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi.testclient import TestClient

from disclose.builders import COMPANY
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import GOVERNMENT, Portal
from xinyong.apply.models import deliveries
from xinyong.policy import load_policy
from xinyong.web.app import create_app

from .conftest import Receiver


def listed(cli: Run, list_type: str, at: str) -> dict:
    entry = cli("lists", "propose", "--type", list_type, "--subject", COMPANY, "--reason", "经认定",
                "--basis", "依据", "--json", at=at)  # fmt: skip
    return cli("lists", "decide", str(entry["id"]), "--valid-until", "2027-06-30", "--statement-waived",
               "--json", at=at)  # fmt: skip


def test_a_failed_delivery_backs_off_then_arrives_once(
    world: tuple[Portal, Rights], cli: Run, receiver: Receiver
) -> None:
    cli("subscribe", "add", "--org", GOVERNMENT, "--url", receiver.url, "--events", "list.entry_added",
        "--json", at="2026-09-01T08:00")  # fmt: skip
    listed(cli, "SXBZXR", "2026-09-01T09:00")

    receiver.fail = True
    first = cli("push", "run", "--once", "--json", at="2026-09-01T09:00:05")
    assert (first["queued"], first["delivered"], first["failed"]) == (1, 0, 1)
    # 30 s back-off (policy push.retry_base): at +10 s nothing is tried.
    receiver.fail = False
    waiting = cli("push", "run", "--once", "--json", at="2026-09-01T09:00:15")
    assert (waiting["delivered"], waiting["failed"]) == (0, 0) and receiver.got == []
    later = cli("push", "run", "--once", "--json", at="2026-09-01T09:00:40")
    assert later["delivered"] == 1 and [r.event["type"] for r in receiver.got] == ["list.entry_added"]
    assert later["delays_ms"] == [40_000]  # from the change (09:00:00) to delivery, on the suite's clock
    assert cli("push", "run", "--once", "--json", at="2026-09-01T09:05")["delivered"] == 0
    assert len(receiver.got) == 1


def test_a_receiver_that_never_answers_is_dead_lettered(world: tuple[Portal, Rights], cli: Run) -> None:
    portal, _ = world
    cli("subscribe", "add", "--org", GOVERNMENT, "--url", "http://127.0.0.1:9/closed", "--events",
        "list.entry_added", "--json", at="2026-09-01T08:00")  # fmt: skip
    listed(cli, "SXBZXR", "2026-09-01T09:00")
    attempts = load_policy().push.max_attempts.value
    outcomes = [
        cli("push", "run", "--once", "--json", at=f"2026-09-{2 + i:02d}T09:00") for i in range(attempts + 1)
    ]
    assert [o["failed"] for o in outcomes[: attempts - 1]] == [1] * (attempts - 1)
    assert outcomes[attempts - 1]["dead"] == 1
    assert (outcomes[attempts]["failed"], outcomes[attempts]["dead"]) == (0, 0)  # not tried again
    with portal.runtime.engine.connect() as conn:
        row = conn.execute(
            sa.select(deliveries.c.state, deliveries.c.attempts, deliveries.c.last_error)
        ).one()
    assert (row.state, row.attempts) == ("dead", attempts) and row.last_error


def test_subscriptions_filter_by_list_type_and_refuse_unknown_events(
    world: tuple[Portal, Rights], cli: Run, receiver: Receiver
) -> None:
    unknown = cli("subscribe", "add", "--org", GOVERNMENT, "--url", receiver.url, "--events", "list.added",
                  "--json", at="2026-09-01T08:00", code=1)  # fmt: skip
    assert "subscribe.events" in unknown.stderr and "list.entry_added" in unknown.stderr
    nobody = cli("subscribe", "add", "--org", "91420100MA4K000000", "--url", receiver.url, "--events",
                 "list.entry_added", "--json", at="2026-09-01T08:00", code=1)  # fmt: skip
    assert "subscribe.org_unknown" in nobody.stderr
    made = cli("subscribe", "add", "--org", GOVERNMENT, "--url", receiver.url, "--events", "list.entry_added",
               "--lists", "SXBZXR", "--json", at="2026-09-01T08:00")  # fmt: skip
    assert made["id"] > 0
    listed(cli, "AJNSR", "2026-09-01T09:00")
    listed(cli, "SXBZXR", "2026-09-01T09:00")
    cli("push", "run", "--once", "--json", at="2026-09-01T09:01")
    assert [r.event["payload"]["list_type"] for r in receiver.got] == ["SXBZXR"]


def test_the_server_delivers_a_change_within_seconds(
    world: tuple[Portal, Rights], cli: Run, receiver: Receiver
) -> None:
    """`xinyong serve` runs the push worker (XINYONG_PUSH_INTERVAL_S): a listing reaches the receiver without
    anyone running `push run`. The wall-clock delay is printed (a figure, loosely bounded here)."""
    portal, _ = world
    cli("subscribe", "add", "--org", GOVERNMENT, "--url", receiver.url, "--events", "list.entry_added",
        "--json", at="2026-09-01T08:00")  # fmt: skip
    portal.runtime.clock.set("2026-09-01T09:00")  # type: ignore[attr-defined]
    app = create_app(portal.runtime, push_every=0.1)
    with TestClient(app):
        started = time.monotonic()
        listed(cli, "SXBZXR", "2026-09-01T09:00")
        committed = time.monotonic()
        while not receiver.got and time.monotonic() - committed < 10:
            time.sleep(0.02)
        arrived = time.monotonic()
    assert [r.event["type"] for r in receiver.got] == ["list.entry_added"]
    print(
        f"push delay after commit: {1000 * (arrived - committed):.0f} ms (walk {committed - started:.2f} s)"
    )
    assert arrived - committed < 5


def test_each_push_pass_expires_entries_whose_validity_ended(world: tuple[Portal, Rights], cli: Run) -> None:
    entry = listed(cli, "AJNSR", "2026-09-01T09:00")  # valid to 2027-06-30
    assert cli("push", "run", "--once", "--json", at="2027-06-30T23:00")["expired"] == []
    passed = cli("push", "run", "--once", "--json", at="2027-07-01T00:10")
    assert passed["expired"] == [entry["id"]]
    assert cli("push", "run", "--once", "--json", at="2027-07-01T00:20")["expired"] == []
