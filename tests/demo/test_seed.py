import sqlalchemy as sa
from typer.testing import CliRunner

from xinyong.cli import app
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

    again = runner.invoke(app, ["demo", "--subjects", "60", "--no-serve"])
    assert again.exit_code == 0 and "已存在" in again.output
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(batches)).scalar_one() == 3
    engine.dispose()
