"""Scraping `/metrics` as Prometheus does: over HTTP, read with the client library's own parser."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    """One scrape: every sample, by name and labels."""

    samples: list[Sample]
    types: dict[str, str]
    """Each family's TYPE (counter, gauge, histogram)."""

    def value(self, name: str, **labels: str) -> float:
        """The sample `name` with exactly these labels; 0 when it was never counted."""
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1, f"{name}{labels} is ambiguous"
        return found[0] if found else 0.0

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples `name` whose labels include these (others any)."""
        return sum(s.value for s in self.samples if s.name == name and _includes(s.labels, labels))

    def label_values(self) -> set[str]:
        return {value for sample in self.samples for value in sample.labels.values()}


def _includes(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


async def scrape(client: httpx.AsyncClient, url: str) -> Scrape:
    """GET `url` (…/metrics); the page must be Prometheus' text format, which the parser checks."""
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = list(text_string_to_metric_families(response.text))
    samples = [sample for family in families for sample in family.samples]
    return Scrape(samples, {family.name: family.type for family in families})
