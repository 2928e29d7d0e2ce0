"""Outside sources: status pages, IODA, OONI, Cloudflare Radar and RSS/Atom feeds, each turned
into the bot's own records.

The registry maps a sources-file `kind` to its adapter. A new kind is one module implementing
`bot.sources.adapter.Adapter` and one entry here; the runner, the job, the health records,
/sources and `outagebot sources check` need no change.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.catalog import Catalog
from bot.sources.adapter import Adapter, AdapterFactory, SourceConfig
from bot.sources.feed import FeedAdapter
from bot.sources.ioda import IodaAdapter
from bot.sources.ooni import OoniAdapter
from bot.sources.radar import CloudflareRadarAdapter
from bot.sources.statuspage import StatuspageAdapter
from storage.source_health import all_health, targets_of

__all__ = ["ADAPTERS", "all_health", "build_adapter", "targets_of"]

ADAPTERS: Mapping[str, AdapterFactory] = {
    adapter.kind: adapter
    for adapter in (
        StatuspageAdapter,
        IodaAdapter,
        OoniAdapter,
        CloudflareRadarAdapter,
        FeedAdapter,
    )
}


def build_adapter(config: SourceConfig, catalog: Catalog) -> Adapter:
    return ADAPTERS[config.kind](config, catalog)
