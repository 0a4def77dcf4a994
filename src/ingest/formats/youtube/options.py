"""The options the YouTube comments adapter reads."""

from __future__ import annotations

from ingest.registry import CHUNK_OPTIONS, Option

OPTIONS = (
    *CHUNK_OPTIONS,
    Option(
        "video_id",
        str,
        "YouTube comments: the video id when neither sidecar nor file name has it",
        flag="--video-id",
    ),
)
