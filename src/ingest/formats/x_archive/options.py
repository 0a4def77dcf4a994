"""The options the X account archive adapter reads."""

from __future__ import annotations

from ingest.registry import Option

OPTIONS = (
    Option(
        "account",
        str | dict[str, str],
        "X archive: the account as ID or ID:username when account.js is absent",
        flag="--account",
    ),
)
