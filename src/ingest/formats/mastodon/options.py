"""The options the Mastodon adapter reads."""

from __future__ import annotations

from ingest.registry import Option

OPTIONS = (
    Option(
        "include_private",
        bool,
        "Mastodon: keep followers-only and direct statuses (default: counted as skipped)",
    ),
)
