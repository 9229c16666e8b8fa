"""Rows and columns of the Images table (rows keyed by image id, see :mod:`app.models.keyed`).

Rows are built from ``ImageSummary`` (the full resync) or ``ImageDetails`` (one image after an
event); both give the same keys. "In use" is the number of containers created from the image,
which the view keeps up to date from container create/destroy events.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from app.dialogs.common import human_age, human_size, short_id
from app.models.keyed import RIGHT, Column, KeyedTableModel

NONE_TAG = "<none>:<none>"


def _in_use_text(value: Any) -> str:
    return str(value) if value else "—"


IMAGE_COLUMNS = (
    Column("reference", "Reference"),
    Column("short_id", "ID"),
    Column("created", "Created", format=human_age, search=False),
    Column("size", "Size", align=RIGHT, format=human_size, search=False),
    Column("in_use", "In use", align=RIGHT, format=_in_use_text, search=False),
    Column("dangling", "Dangling", format=lambda v: "dangling" if v else "", search=False),
)


def parse_created(value: Any) -> int:
    """Unix seconds from an int or an RFC 3339 string with up to nanosecond precision."""
    if isinstance(value, int | float):
        return int(value)
    if not value:
        return 0
    text = str(value).strip().replace("Z", "+00:00")
    # Python accepts at most microseconds: cut nanoseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        return 0


def image_row(
    image_id: str,
    repo_tags: Any,
    repo_digests: Any,
    created: Any,
    size: int,
    in_use: int,
) -> dict[str, Any]:
    tags = [t for t in (repo_tags or ()) if t and t != NONE_TAG]
    digests = [d for d in (repo_digests or ()) if d and not d.startswith("<none>")]
    if tags:
        reference = tags[0] + (f"  (+{len(tags) - 1})" if len(tags) > 1 else "")
    elif digests:
        reference = digests[0].split("@")[0] + "@<untagged>"
    else:
        reference = "<none>"
    return {
        "reference": reference,
        "short_id": short_id(image_id),
        "created": parse_created(created),
        "size": int(size or 0),
        "in_use": int(in_use),
        "dangling": not tags,
        "tags": tuple(tags),
        "_search": " ".join([*tags, *digests]),
    }


def row_from_summary(image: Any, in_use: int) -> dict[str, Any]:
    return image_row(
        image.id, image.repo_tags, image.repo_digests, image.created, image.size, in_use
    )


def row_from_details(image: Any, in_use: int) -> dict[str, Any]:
    return image_row(
        image.id, image.repo_tags, image.repo_digests, image.created, image.size, in_use
    )


class ImagesModel(KeyedTableModel):
    """Images keyed by id."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(IMAGE_COLUMNS, parent)

    def tags_of(self, image_id: str) -> tuple[str, ...]:
        row = self.get(image_id)
        return tuple(row.get("tags", ())) if row else ()
