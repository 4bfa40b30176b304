"""The benches' arithmetic and parsing: percentiles, samples, sizes, the builder's summary line."""

from __future__ import annotations

import pytest

from bench.build import Size, builder_summary
from bench.common import latency_summary, percentile, sample_texts


@pytest.mark.parametrize(
    ("share", "expected"),
    [(0.50, 50.0), (0.95, 95.0), (0.99, 99.0), (1.0, 100.0), (0.001, 1.0)],
)
def test_percentile_is_nearest_rank_over_one_to_hundred(share: float, expected: float) -> None:
    samples = [float(value) for value in range(100, 0, -1)]
    assert percentile(samples, share) == expected


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 0.5) == 0.0


def test_latency_summary_reports_milliseconds() -> None:
    summary = latency_summary([0.001, 0.002, 0.003, 0.004])
    assert summary["count"] == 4
    assert summary["p50_ms"] == 2.0
    assert summary["max_ms"] == 4.0
    assert summary["mean_ms"] == 2.5


def test_sample_is_fixed_for_a_seed_and_bounded() -> None:
    texts = [f"query {number}" for number in range(50)]
    first = sample_texts(texts, size=10)
    assert first == sample_texts(texts, size=10)
    assert len(first) == 10
    assert set(first) <= set(texts)
    assert sorted(sample_texts(texts, size=0)) == sorted(texts)


@pytest.mark.parametrize(
    ("text", "label", "count"),
    [
        ("seed", "seed", None),
        ("10k", "10k", 10_000),
        ("100000", "100k", 100_000),
        ("2500", "2500", 2500),
    ],
)
def test_size_reads_seed_and_synthetic_counts(text: str, label: str, count: int | None) -> None:
    size = Size.parse(text)
    assert (size.label, size.count) == (label, count)


def test_synthetic_size_asks_the_builder_for_a_synthetic_city() -> None:
    assert Size.parse("10k").command()[-3:] == ["build", "--synthetic", "10000"]
    assert Size.parse("seed").command()[-1] == "build"


def test_builder_summary_line_is_read() -> None:
    line = "published 121500 documents to noziri_places in 68.4 s (1,775 docs/s)"
    assert builder_summary(line) == {
        "documents": 121500,
        "publish_seconds": 68.4,
        "publish_docs_per_second": 1775.0,
    }
    assert builder_summary("no summary here") == {}
