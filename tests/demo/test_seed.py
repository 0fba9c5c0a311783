import sqlalchemy as sa
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.security.models import audit_log
from xinyong.store.engine import make_engine
from xinyong.store.tables import batches, records


def test_demo_seeds_through_the_real_pipeline_once(home):
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--subjects", "60", "--no-serve"])
    assert first.exit_code == 0, first.output
    engine = make_engine(f"sqlite:///{home / 'xinyong.db'}")
    with engine.connect() as conn:
        done = conn.execute(sa.select(batches).order_by(batches.c.id)).mappings().all()
        loaded = conn.execute(sa.select(sa.func.count()).select_from(records)).scalar_one()
    assert [b["item_code"] for b in done] == ["QYJC", "XZXK", "XZCF"]
    for b in done:
        assert b["status"] == "done"
        assert b["received"] == b["inserted"] + b["updated"] + b["unchanged"] + b["rejected"]
    assert loaded == sum(b["inserted"] for b in done) > 0
    assert all((home / "demo" / f"{item}.csv").exists() for item in ("QYJC", "XZXK", "XZCF"))
    accounts = home / "demo-accounts.txt"
    assert accounts.stat().st_mode & 0o777 == 0o600
    assert "username: admin       role: platform_admin（平台管理员）" in accounts.read_text(encoding="utf-8")
    with engine.connect() as conn:  # seeding is on the audit trail, like any other load
        trail = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.actor, audit_log.c.object_id).order_by(audit_log.c.seq)
        ).all()
    seeded = [(action, object_id) for action, actor, object_id in trail if actor == "system:demo"]
    assert seeded[0] == ("org.seed", None) and seeded[-1] == ("demo.seed", None)
    listed = [
        line.split()[1]
        for line in accounts.read_text(encoding="utf-8").splitlines()
        if line.startswith("username:")
    ]
    assert [o for a, o in seeded if a == "user.add"] == listed and "admin" in listed
    assert [o for a, o in seeded if a == "batch.submit"] == [str(b["id"]) for b in done]

    again = runner.invoke(app, ["demo", "--subjects", "60", "--no-serve"])
    assert again.exit_code == 0 and "已存在" in again.output
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(batches)).scalar_one() == 3
    engine.dispose()
