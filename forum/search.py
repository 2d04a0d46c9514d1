"""Full-text search in the forum, in Russian.

PostgreSQL: to_tsvector('russian', ...) with the GIN expression index on forum_posts
(forum.models). SQLite: the FTS5 table forum_posts_fts (rowid = post id), kept in step by
`index_post`; FTS5 has no Russian stemmer, so query words are cut to a stem and matched as
prefixes ("экскурсии" finds "экскурсия").
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from sqlalchemy import String, and_, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from forum import audience, sanitize
from forum.models import SQLITE_FTS_DDL, Post, Section, Status, Topic
from hub.auth.access import Principal

MAX_RESULTS = 50
_WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)
_ENDINGS = sorted(
    """а я о е ё и ы у ю ь й ам ям ом ем ах ях ов ев ей ой ый ий ая яя ое ее ые ие ую юю
    ого его ому ему ым им ых их ами ями ать ять ить еть ут ют ат ят ет ит ем им ешь ишь
    ете ите ость ости ия ие ию ии ией иям иях иями""".split(),
    key=len, reverse=True,
)


def stem(word: str) -> str:
    """A crude Russian stem: the word without a common ending, at least 3 letters kept."""
    word = word.lower().replace("ё", "е")
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _fts_query(query: str) -> str | None:
    words = [w for w in _WORD.findall(query) if len(w) >= 2][:8]
    if not words:
        return None
    return " AND ".join(f'"{stem(w)}"*' for w in words)


def _indexed_text(post: Post, title: str = "") -> str:
    return f"{title}\n{sanitize.plain_text(post.body_html)}".replace("ё", "е").replace("Ё", "Е")


# Engines whose SQLite database is known to have the FTS table: create_all makes it (see
# forum.models), a migrated database may not have it yet, so it is made on first use.
_ready: weakref.WeakSet[object] = weakref.WeakSet()


async def _ensure_table(session: AsyncSession) -> None:
    engine = session.get_bind().engine
    if engine in _ready:
        return
    await session.execute(text(SQLITE_FTS_DDL))
    _ready.add(engine)


_UNINDEX = text("DELETE FROM forum_posts_fts WHERE rowid = :id")
_INDEX = text("INSERT INTO forum_posts_fts (rowid, body) VALUES (:id, :body)")


async def index_post(session: AsyncSession, post: Post, *, new: bool = False) -> None:
    """Keep SQLite's FTS table in step with a post (PostgreSQL indexes by itself); a `new`
    post has nothing indexed to replace."""
    if session.get_bind().dialect.name != "sqlite":
        return
    await _ensure_table(session)
    title = ""
    if post.is_opening:
        title = await session.scalar(select(Topic.title).where(Topic.id == post.topic_id)) or ""
    if not new:
        await session.execute(_UNINDEX, {"id": post.id})
    await session.execute(_INDEX, {"id": post.id, "body": _indexed_text(post, title)})


@dataclass(frozen=True)
class Hit:
    post: Post
    topic: Topic
    section: Section
    snippet: str


async def search(session: AsyncSession, principal: Principal, query: str) -> list[Hit]:
    """Published posts matching `query` in the sections `principal` reads, newest first."""
    query = query.strip()[:200]
    sections = {
        s.id: s for s in await session.scalars(
            select(Section).where(Section.school_id == principal.school_id)
        ) if audience.may_read_section(principal, s)
    }
    if not query or not sections:
        return []
    statement = (
        select(Post, Topic)
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            Post.school_id == principal.school_id,
            Post.status == Status.PUBLISHED, Post.hidden.is_(False),
            Topic.status == Status.PUBLISHED, Topic.hidden.is_(False),
            Topic.section_id.in_(list(sections)),
        )
        .order_by(Post.id.desc())
        .limit(MAX_RESULTS)
    )
    if session.get_bind().dialect.name == "sqlite":
        match = _fts_query(query)
        if match is None:
            return []
        await _ensure_table(session)
        statement = statement.where(Post.id.in_(
            select(literal_column("rowid")).select_from(text("forum_posts_fts"))
            .where(text("forum_posts_fts MATCH :match"))
        )).params(match=match)
    else:
        russian = literal_column("'russian'", String)
        tsquery = func.plainto_tsquery(russian, query)
        statement = statement.where(or_(
            func.to_tsvector(russian, literal_column("forum_posts.body_source"))
            .bool_op("@@")(tsquery),
            and_(Post.is_opening,
                 func.to_tsvector(russian, Topic.title).bool_op("@@")(tsquery)),
        ))
    hits = []
    for post, topic in (await session.execute(statement)).all():
        words = sanitize.plain_text(post.body_html)
        hits.append(Hit(post, topic, sections[topic.section_id],
                        words[:200] + ("…" if len(words) > 200 else "")))
    return hits
