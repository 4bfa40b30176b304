"""The plan's extra worker settings: passed to every worker, and only ``BOT_*`` ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from deploy.plan import Secrets, make_plan
from deploy.workers import BotApi, worker_environment


def test_extra_bot_settings_reach_every_worker_and_cannot_replace_the_topologys(
    tmp_path: Path,
) -> None:
    plan = make_plan(
        workers=2,
        replicas=1,
        database="sqlite",
        run_dir=tmp_path,
        worker_settings={"BOT_MAX_SENDS_PER_SECOND": "1000"},
    )
    api = BotApi(root="http://127.0.0.1:1", token=SecretStr("1:T"))
    envs = [
        worker_environment(plan, w, api=api, secrets=Secrets(), database_url="sqlite:///x")
        for w in plan.workers
    ]
    assert all(env["BOT_MAX_SENDS_PER_SECOND"] == "1000" for env in envs)
    assert all(env["BOT_SHARED_STATE"] == "database" for env in envs)
    with pytest.raises(ValueError, match="BOT_"):
        make_plan(
            workers=1,
            replicas=1,
            database="sqlite",
            run_dir=tmp_path / "other",
            worker_settings={"DATABASE_URL": "sqlite:///elsewhere"},
        )
