"""The whole topology on this machine (issue 17): residents' updates through HAProxy to 3 bot
workers and 2 Meilisearch replicas while a worker, then a replica, is killed and restarted.

The run of ``python -m bench.availability``, with shorter phases and a lower rate: PostgreSQL,
the replicas with the index built into both, HAProxy with TLS, the workers in webhook mode sharing
their state, and the fake Bot API delivering by webhook (redelivering what failed). Asserted: no
message lost and none answered twice, and every phase answered. Reply times go to the figures.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from bench.availability import (
    BENCH_DELIVERY,
    SteadyLoad,
    availability_phases,
    phase_rows,
    totals,
)
from bench.common import load_query_texts, sample_texts
from bot.offline.fake_api import FakeBotApi
from tests.conftest import integration_required

PHASE_SECONDS = 5.0
RATE = 6.0  # messages a second


@pytest.fixture
def haproxy() -> str:
    """HAProxy's binary (CI installs it; elsewhere the test skips without it)."""
    found = shutil.which("haproxy")
    if found is None:
        if integration_required():
            pytest.fail("haproxy not found: apt-get install haproxy (.ci/run does)")
        pytest.skip("haproxy not found: apt-get install haproxy")
    return found


async def test_a_killed_worker_and_a_killed_replica_lose_no_update_and_answer_none_twice(
    haproxy: str, figures: dict[str, Any]
) -> None:
    from deploy.launch import default_database, launch
    from deploy.plan import make_plan

    texts = sample_texts(load_query_texts(), size=200)
    # The default run directory (under /tmp): PostgreSQL's own user must reach it.
    plan = make_plan(workers=3, replicas=2, database=default_database())
    try:
        async with (
            FakeBotApi(webhook_policy=BENCH_DELIVERY) as api,
            launch(plan, api_root=api.root, token=api.token) as topology,
        ):
            phases = availability_phases(topology, seconds=PHASE_SECONDS)
            load = SteadyLoad(api, texts, rate=RATE)
            await load.run(phases)
            await load.drain(40.0)
    finally:
        shutil.rmtree(plan.run_dir, ignore_errors=True)
    counted = totals(load.probes)
    rows = phase_rows(load.probes, phases)
    for name, row in rows.items():
        figures[f"availability: {name}: sent / p50 / p95 ms"] = (
            f"{row['sent']} / {row['p50_ms']:.0f} / {row['p95_ms']:.0f}"
        )
    figures["availability: answered, lost, answered twice"] = (
        f"{counted.answered}, {counted.lost}, {counted.answered_twice}"
    )
    assert counted.sent >= 0.8 * RATE * PHASE_SECONDS * len(phases)
    assert counted.lost == 0, [p for p in load.probes if not p.answers][:5]
    assert counted.answered_twice == 0, [p for p in load.probes if len(p.answers) > 1][:5]
    assert all(row["answered"] > 0 for row in rows.values()), rows
