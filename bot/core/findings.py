"""What outside sources say about one pair, as the card reads it: plain values, no I/O.

Three questions a person asks when something is down, answered apart so they are never
conflated: is the country's internet down (connectivity), is the service blocked there
(blocking), and can these answers be trusted right now (failing sources).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class Connectivity:
    """The region's internet by one signal: normal, or `drop_pct` below normal since `since`."""

    signal: str  # the source's name for it: bgp, ping-slash24, merit-nt
    drop_pct: float  # 0 when at or above normal
    since: datetime | None  # start of the source's own outage event for this signal, if any
    source: str  # e.g. "IODA"
    at: datetime  # time of the latest value
    normal: bool  # the drop is under the threshold that counts as an outage signal


@dataclass(frozen=True, slots=True)
class Blocking:
    """How often a service's domain looked blocked in the region over the last days."""

    domain: str
    anomaly_pct: float
    measurements: int
    window_days: int
    source: str  # e.g. "OONI"
    at: datetime  # when it was fetched
    enough: bool  # enough measurements to say anything


class FailingSource(NamedTuple):
    """A source behind the pair whose last run failed: its lines may be out of date."""

    source: str
    since: datetime | None  # when the current run of failures began
    error: str | None  # short reason: "timed out after 10 s", "HTTP 500"
    last_success: datetime | None = None


@dataclass(frozen=True, slots=True)
class SourceFindings:
    region: str  # region code
    region_name: str
    connectivity: Connectivity | None = None
    blocking: Blocking | None = None
    failing: list[FailingSource] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.connectivity is None and self.blocking is None and not self.failing


# Below these the evidence is too thin for a timeline event (the card still shows the numbers).
MIN_MEASUREMENTS = 10
BLOCKED_PCT = 20.0


@dataclass(frozen=True, slots=True)
class Signal:
    short: str  # for "(IODA, BGP, 10 min ago)"
    phrase: str  # for "BGP-visible networks dropped 40% below normal"


SIGNALS: dict[str, Signal] = {
    "bgp": Signal("BGP", "BGP-visible networks"),
    "ping-slash24": Signal("active probing", "networks answering active probes"),
    "merit-nt": Signal("telescope", "hosts seen by the network telescope"),
    "ucsd-nt": Signal("telescope", "hosts seen by the network telescope"),
}
SIGNAL_ORDER = ("bgp", "ping-slash24", "merit-nt", "ucsd-nt")  # steadiest first


def signal_label(signal: str) -> Signal:
    return SIGNALS.get(signal, Signal(signal, f"{signal} signal"))
