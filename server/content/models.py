"""Content: the seed's ``Page`` (#36) and ``Blog`` (#37), and ``PageStatus``.

Deviations from ``data-model.md``: none beyond the house conventions (snake_case names,
cuid2 ids, timezone-aware timestamps). ``Blog.author_id`` stays a plain user-id string as
in the seed (no foreign key), so a post keeps its author id when the account goes.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import ID_LENGTH, Entity, SoftDeleteMixin, StoreOwnedMixin, enum_column


class PageStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class Page(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A CMS page (About, Privacy, Terms, ...)."""

    __table_args__ = (
        UniqueConstraint("store_id", "slug"),
        Index("ix_page_store_id_status", "store_id", "status"),
    )

    title: Mapped[str]
    slug: Mapped[str]
    content: Mapped[str] = mapped_column(Text)  # HTML

    status: Mapped[PageStatus] = mapped_column(enum_column(PageStatus), default=PageStatus.DRAFT)
    published_at: Mapped[datetime | None]

    # SEO
    meta_title: Mapped[str | None]
    meta_description: Mapped[str | None]
    meta_keywords: Mapped[str | None]

    # Display
    display_order: Mapped[int] = mapped_column(default=0)
    show_in_footer: Mapped[bool] = mapped_column(default=False)


class Blog(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A blog post."""

    __table_args__ = (
        UniqueConstraint("store_id", "slug"),
        Index("ix_blog_store_id_status_published_at", "store_id", "status", "published_at"),
    )

    title: Mapped[str]
    slug: Mapped[str]
    excerpt: Mapped[str | None]
    content: Mapped[str] = mapped_column(Text)
    featured_image_url: Mapped[str | None]

    author_id: Mapped[str] = mapped_column(String(ID_LENGTH))  # user id

    status: Mapped[PageStatus] = mapped_column(enum_column(PageStatus), default=PageStatus.DRAFT)
    published_at: Mapped[datetime | None]

    # SEO
    meta_title: Mapped[str | None]
    meta_description: Mapped[str | None]

    view_count: Mapped[int] = mapped_column(default=0)

    categories: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
