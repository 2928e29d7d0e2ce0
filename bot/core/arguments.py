"""Turning what a person typed after a command into a service and/or a region.

People type pairs in either order, with multi-word names quoted or not ("/status x united
kingdom"), so every split of the words is tried: service first, then region first.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bot.core.catalog import Catalog, Region, Service, UnknownName


class UsageError(Exception):
    """Bad input from a person; the message is shown to them as is (already HTML-safe)."""


@dataclass(frozen=True, slots=True)
class PairQuery:
    service: Service | None
    region: Region | None


def words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: still answer rather than fail
        return text.replace('"', " ").replace("'", " ").split()


def parse_pair(text: str, catalog: Catalog, *, usage: str) -> PairQuery:
    """A service, a region, or both; UnknownName with suggestions for what was not understood."""
    tokens = words(text)
    if not tokens:
        raise UsageError(usage)
    whole = " ".join(tokens)
    if service := catalog.find_service(whole):
        return PairQuery(service, None)
    if region := catalog.find_region(whole):
        return PairQuery(None, region)
    for cut in range(1, len(tokens)):
        left, right = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        service, region = catalog.find_service(left), catalog.find_region(right)
        if service and region:
            return PairQuery(service, region)
        region, service = catalog.find_region(left), catalog.find_service(right)
        if service and region:
            return PairQuery(service, region)
    raise _unknown(tokens, catalog)


def parse_full_pair(text: str, catalog: Catalog, *, usage: str) -> tuple[Service, Region]:
    query = parse_pair(text, catalog, usage=usage)
    if query.service is None or query.region is None:
        raise UsageError(usage)
    return query.service, query.region


def _unknown(tokens: list[str], catalog: Catalog) -> UnknownName:
    """Say which part was not understood: the side next to a known name, else the whole."""
    for cut in range(1, len(tokens)):
        left, right = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        if catalog.find_region(right):
            return UnknownName("service", left, catalog.suggest_services(left))
        if catalog.find_service(right):
            return UnknownName("region", left, catalog.suggest_regions(left))
        if catalog.find_service(left):
            return UnknownName("region", right, catalog.suggest_regions(right))
        if catalog.find_region(left):
            return UnknownName("service", right, catalog.suggest_services(right))
    whole = " ".join(tokens)
    services = catalog.suggest_services(whole, limit=2)
    regions = catalog.suggest_regions(whole, limit=3)
    kind = "service or country"
    return UnknownName(kind, whole, (services + regions)[:3])
