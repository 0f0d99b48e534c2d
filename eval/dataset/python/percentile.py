"""Latency percentiles for the dashboard."""


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        raise ValueError("no samples")
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    ordered = sorted(samples)
    index = int(len(ordered) * p / 100)
    return ordered[index]


def summary(samples: list[float]) -> dict[str, float]:
    return {name: percentile(samples, p) for name, p in (("p50", 50), ("p95", 95), ("p100", 100))}
