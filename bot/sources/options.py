"""Reading a sources-file entry's own options, and which pairs a run covers.

Each adapter takes a few settings of its own (`signals`, `window_hours`, `limit`…); these
helpers check them the same way everywhere, so a mistake reads the same whatever the kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.catalog import Catalog
from bot.sources.adapter import ConfigProblem, SourceConfig
from storage.source_health import Pair, Watched


def option_number(
    options: Mapping[str, Any],
    key: str,
    default: float,
    *,
    minimum: float,
    maximum: float | None = None,
) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigProblem(f"{key} must be a number, not {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum:g}" if maximum is not None else ""
        raise ConfigProblem(f"{key} must be at least {minimum:g}{upper}")
    return float(value)


def option_flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise ConfigProblem(f"{key} must be true or false, not {value!r}")
    return value


def option_choices(
    options: Mapping[str, Any], key: str, default: Sequence[str], allowed: Sequence[str]
) -> tuple[str, ...]:
    value = options.get(key, list(default))
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigProblem(f"{key} must be a non-empty list, e.g. {key} = {list(default)!r}")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ConfigProblem(f"{key}: unknown {', '.join(unknown)} (known: {', '.join(allowed)})")
    return tuple(dict.fromkeys(value))


EVERY = "*"


def watched_regions(watched: Watched) -> set[str]:
    """Concrete regions in the watched pairs; a '*' region means every region on record."""
    regions: set[str] = set()
    for _, region in watched.pairs:
        regions |= set(watched.regions_on_record) if region == EVERY else {region}
    return regions


def watched_services(watched: Watched, catalog: Catalog) -> set[str]:
    """Concrete services in the watched pairs; a '*' service means every service."""
    services: set[str] = set()
    for service, _ in watched.pairs:
        services |= {s.key for s in catalog.services} if service == EVERY else {service}
    return services


def watched_concrete_pairs(watched: Watched, catalog: Catalog) -> set[Pair]:
    every_service = {s.key for s in catalog.services}
    pairs: set[Pair] = set()
    for service, region in watched.pairs:
        services = every_service if service == EVERY else {service}
        regions = set(watched.regions_on_record) if region == EVERY else {region}
        pairs |= {(s, r) for s in services for r in regions}
    return pairs


def chosen_pairs(config: SourceConfig, watched: Watched, catalog: Catalog) -> set[Pair]:
    """The pairs a source covers: its own `services` × `regions`, a side left out filled in
    from what the bot watches; both left out, exactly the watched pairs."""
    if config.services is None and config.regions is None:
        return watched_concrete_pairs(watched, catalog)
    services = (
        set(config.services) if config.services is not None else watched_services(watched, catalog)
    )
    regions = set(config.regions) if config.regions is not None else watched_regions(watched)
    return {(s, r) for s in services for r in regions}


def capped(targets: Sequence[Pair] | set[Pair], limit: int) -> list[Pair]:
    """Sorted, at most `limit`: a wildcard never turns one run into hundreds of requests."""
    return sorted(targets)[:limit]
