"""The options the Telegram Desktop adapter reads."""

from __future__ import annotations

from ingest.registry import Option

# The chat types of a Telegram Desktop export, as ``type`` names them.
CHAT_TYPES = (
    "personal_chat",
    "bot_chat",
    "private_group",
    "private_supergroup",
    "public_supergroup",
    "private_channel",
    "public_channel",
    "saved_messages",
)


def parse_chat_types(text: str) -> list[str]:
    """``"public_channel,public_supergroup"`` → ``["public_channel", "public_supergroup"]``."""
    return [t.strip() for t in text.split(",") if t.strip()]


OPTIONS = (
    Option(
        "timezone",
        str,
        "Telegram: IANA zone of old exports' local 'date' (default UTC)",
        flag="--timezone",
    ),
    Option(
        "chat_types",
        list[str],
        "Telegram: only these chat types, e.g. public_channel,public_supergroup",
        flag="--chat-types",
        parse=parse_chat_types,
    ),
    Option(
        "channel_username",
        str,
        "Telegram: public username of a single-chat export (for URLs)",
        flag="--channel-username",
    ),
)
