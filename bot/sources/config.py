"""The sources file (TOML, `OUTAGEBOT_SOURCES_FILE`): which sources run, how often, on what.

Every problem in the file is collected and reported at once, each naming its entry, so a deploy
fixes them in one go; unknown keys are errors, as in dataset files, because a typo silently
ignored (`intreval = 60`) would run a source on settings nobody chose. Format: docs/sources.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.core.catalog import Catalog, UnknownName
from bot.sources.adapter import Adapter, ConfigProblem, SourceConfig
from bot.sources.fetching import FetchPolicy

COMMON_KEYS = frozenset(
    {
        "name",
        "kind",
        "url",
        "interval",
        "timeout",
        "retries",
        "backoff",
        "max_bytes",
        "max_targets",
        "services",
        "service",
        "regions",
    }
)
DEFAULT_KEYS = frozenset({"interval", "timeout", "retries", "backoff", "max_bytes", "max_targets"})

# Public APIs ask to be polled gently; ten minutes is often enough for outage news.
DEFAULTS: Mapping[str, float | int] = {
    "interval": 600.0,
    "timeout": 10.0,
    "retries": 2,
    "backoff": 2.0,
    "max_bytes": 2_000_000,
    "max_targets": 50,
}


class SourcesFileError(Exception):
    """The sources file cannot be used; `problems` says why, one line each."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(path, problems)
        self.path = path
        self.problems = list(problems)

    def __str__(self) -> str:
        return f"{self.path}: " + "; ".join(self.problems)


@dataclass(frozen=True, slots=True)
class SourcesFile:
    path: Path
    sources: tuple[SourceConfig, ...]


AdapterTypes = Mapping[str, Callable[[SourceConfig, Catalog], Adapter]]


def load_sources(path: Path, catalog: Catalog, adapters: AdapterTypes) -> SourcesFile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SourcesFileError(path, [f"cannot read it ({error.strerror or error})"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SourcesFileError(path, [f"not valid TOML ({error})"]) from None
    return parse_sources(raw, path, catalog, adapters)


def parse_sources(
    raw: Mapping[str, Any], path: Path, catalog: Catalog, adapters: AdapterTypes
) -> SourcesFile:
    problems: list[str] = []
    unknown = sorted(set(raw) - {"defaults", "sources"})
    if unknown:
        problems.append(f"unknown top-level key(s): {', '.join(unknown)}")
    defaults = dict(DEFAULTS)
    given_defaults = raw.get("defaults", {})
    if not isinstance(given_defaults, dict):
        problems.append("[defaults] must be a table")
        given_defaults = {}
    for key in sorted(set(given_defaults) - DEFAULT_KEYS):
        problems.append(f"[defaults]: unknown key {key!r}")
    defaults.update({k: v for k, v in given_defaults.items() if k in DEFAULT_KEYS})
    entries = raw.get("sources", [])
    if not isinstance(entries, list):
        problems.append("sources must be an array of tables: [[sources]]")
        entries = []
    sources: list[SourceConfig] = []
    names: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        label = f"source #{index}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label = f"source {entry['name']!r}"
        try:
            config = _source(entry, defaults, catalog, adapters)
            adapters[config.kind](config, catalog)  # the kind checks its own options
        except ConfigProblem as problem:
            problems.append(f"{label}: {problem}")
            continue
        if config.name in names:
            problems.append(f"{label}: the name is used twice; names key the health records")
            continue
        names.add(config.name)
        sources.append(config)
    if problems:
        raise SourcesFileError(path, problems)
    return SourcesFile(path, tuple(sources))


def _source(
    entry: object, defaults: Mapping[str, Any], catalog: Catalog, adapters: AdapterTypes
) -> SourceConfig:
    if not isinstance(entry, dict):
        raise ConfigProblem("must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigProblem('needs a name, e.g. name = "IODA"')
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in adapters:
        raise ConfigProblem(f"kind must be one of {', '.join(sorted(adapters))}, not {kind!r}")
    factory = adapters[kind]
    allowed = COMMON_KEYS | getattr(factory, "option_names", frozenset())
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigProblem(f"unknown key(s) {', '.join(unknown)}")
    values = {**defaults, **{k: v for k, v in entry.items() if k in DEFAULT_KEYS}}
    url = entry.get("url", getattr(factory, "default_url", None))
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigProblem('needs url = "https://…" (the API\'s base URL)')
    try:
        httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ConfigProblem(f"url is not a valid URL ({error})") from None
    services = _services(entry, catalog)
    regions = _regions(entry, catalog)
    options = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    return SourceConfig(
        name=name.strip(),
        kind=kind,
        # A base URL loses its trailing slash (paths are appended to it); a kind whose url is
        # the resource itself (a feed: `…/feed/` and `…/feed` may differ) keeps it as written.
        url=url if getattr(factory, "exact_url", False) else url.rstrip("/"),
        interval=_number(values, "interval", minimum=10),
        policy=FetchPolicy(
            timeout=_number(values, "timeout", minimum=0.01),
            retries=int(_number(values, "retries", minimum=0, integer=True)),
            backoff=_number(values, "backoff", minimum=0),
            max_bytes=int(_number(values, "max_bytes", minimum=1, integer=True)),
        ),
        max_targets=int(_number(values, "max_targets", minimum=1, integer=True)),
        services=services,
        regions=regions,
        options=options,
    )


def _number(values: Mapping[str, Any], key: str, *, minimum: float, integer: bool = False) -> float:
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigProblem(f"{key} must be a number, not {value!r}")
    if integer and not isinstance(value, int):
        raise ConfigProblem(f"{key} must be a whole number, not {value!r}")
    if value < minimum:
        raise ConfigProblem(f"{key} must be at least {minimum:g}")
    return float(value)


def _names(entry: Mapping[str, Any], key: str) -> list[str] | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigProblem(f'{key} must be a list of names, e.g. {key} = ["..."]')
    return value


def _services(entry: Mapping[str, Any], catalog: Catalog) -> tuple[str, ...] | None:
    if "service" in entry and "services" in entry:
        raise ConfigProblem("give service or services, not both")
    names = _names(entry, "service") if "service" in entry else _names(entry, "services")
    if names is None:
        return None
    try:
        keys = [catalog.resolve_service(text).key for text in names]
    except UnknownName as error:  # its message already says "did you mean"
        raise ConfigProblem(str(error)) from None
    return tuple(dict.fromkeys(keys))


def _regions(entry: Mapping[str, Any], catalog: Catalog) -> tuple[str, ...] | None:
    names = _names(entry, "regions")
    if names is None:
        return None
    try:
        codes = [catalog.resolve_region(text).code for text in names]
    except UnknownName as error:
        raise ConfigProblem(str(error)) from None
    return tuple(dict.fromkeys(codes))
