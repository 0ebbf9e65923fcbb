"""The role-aware menu and home page. Each room registers its own entries in its AppConfig.ready,
so this core app never imports the rooms above it."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    roles: frozenset[str]
    description: str = ""
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_entries: list[Entry] = []


def register(*, label, url_name: str, roles, description="", order: int = 100) -> None:
    _entries.append(Entry(label, url_name, frozenset(roles), description, order))
    _entries.sort(key=lambda e: e.order)


def entries_for(roles: set[str]) -> list[Entry]:
    return [entry for entry in _entries if entry.roles & roles]
