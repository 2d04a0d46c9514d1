"""The forum's pages: sections, topics, replies, edits, reports, subscriptions, search."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forum import audience, search, topics
from forum.board import author_names
from forum.models import Status
from forum.sanitize import quote
from forum.viewkit import form_int, ident, new_form_token, query_int
from hub.auth.access import Action, Principal, require
from hub.errors import NotFound, UserError
from hub.http import fragments
from hub.http.fragments import FRAGMENTS, Fragment
from hub.http.keys import DB
from hub.http.render import redirect, render
from hub.http.session import signed_in

routes = web.RouteTableDef()


@routes.get("/forum")
async def index(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.READ_SCHOOL_FORUM)
    async with request.app[DB].transaction() as session:
        sections = await topics.list_sections(session, principal)
    return render(request, "forum/index.html", {"sections": sections})


async def _section_context(request: web.Request, section_id: int, page: int) -> dict:
    principal, _ = signed_in(request)
    async with request.app[DB].session() as session:
        section = await topics.get_section(session, principal, section_id)
        listing = await topics.list_topics(session, principal, section, page=page)
    return {"section": section, "listing": listing, "Status": Status,
            "may_post": audience.may_post_in_section(principal, section)}


@routes.get("/forum/sections/{id}")
async def section_page(request: web.Request) -> web.Response:
    context = await _section_context(request, ident(request),
                                     query_int(request, "page", 1) or 1)
    values = {"title": "", "body": "", "form_token": new_form_token()}
    return render(request, "forum/section.html", {**context, "values": values, "error": None})


@routes.post("/forum/sections/{id}/topics")
async def new_topic(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    section_id = ident(request)
    form = await request.post()
    values = {"title": str(form.get("title", "")), "body": str(form.get("body", "")),
              "form_token": str(form.get("form_token", ""))[:64] or new_form_token()}

    async def attempt() -> topics.Written:
        async with request.app[DB].transaction() as session:
            return await topics.create_topic(
                session, principal, section_id, title=values["title"], body=values["body"],
                form_token=values["form_token"],
            )

    try:
        try:
            written = await attempt()
        except IntegrityError:  # the same form twice at the same moment: find the first
            written = await attempt()
    except NotFound:
        raise
    except UserError as exc:
        context = await _section_context(request, section_id, 1)
        return render(request, "forum/section.html",
                      {**context, "values": values, "error": exc.message}, status=exc.status)
    raise web.HTTPSeeOther(f"/forum/topics/{written.topic.id}")


# What a topic page's posts are rendered from.
TOPIC_TABLES = ("forum_topics", "forum_sections", "forum_posts", "people")


@dataclass(frozen=True)
class PostsFacts:
    """What the topic page needs of its rendered posts besides the markup."""

    page: int
    pages: int
    last_id: int  # the page's last post, 0 when there is none


async def _topic_context(request: web.Request, topic_id: int, page: int | None) -> dict:
    principal, _ = signed_in(request)
    size = min(max(query_int(request, "size", topics.PAGE_SIZE) or topics.PAGE_SIZE, 10), 100)
    stamp = fragments.stamp(request, TOPIC_TABLES)
    cache = request.app[FRAGMENTS]
    async with request.app[DB].reading() as session:
        view = await topics.reader_view(session, principal, topic_id)
        may_post = audience.may_post_in_section(principal, view.section)
        # Readers of one kind share the rendered posts; a reader whose own posts mark the
        # topic (held, hidden, still editable) gets a page of their own.
        key = ("topic", topic_id, page, size, audience.sees_held(principal), may_post,
               principal.person_id if view.own_marks else None)
        last_read = view.state.last_read
        fragment = cache.get(key, stamp)
        if fragment is None or 0 < last_read < fragment.facts.last_id:
            fragment = await _render_posts(request, session, principal, view, page, size,
                                           may_post)
            if not 0 < last_read < fragment.facts.last_id:  # no "new" marks in it
                cache.put(key, stamp, fragment)
    facts: PostsFacts = fragment.facts
    if principal.person_id is not None and facts.last_id > last_read:
        async with request.app[DB].transaction() as session:
            await topics.move_marker(session, principal.person_id, view.state, topic_id,
                                     facts.last_id)
    return {
        "topic": view.topic, "section": view.section, "listing": facts,
        "posts": fragment, "last_read": last_read, "subscribed": view.state.subscribed,
        "may_post": may_post, "Status": Status,
    }


def _render_topic(request: web.Request, context: dict, *, status: int = 200) -> web.Response:
    """topic.html with the posts' fragment (_topic_context's "posts") in it."""
    return fragments.render_with(request, "forum/topic.html", context, "posts_html",
                                 context["posts"], status=status)


async def _render_posts(
    request: web.Request, session: AsyncSession, principal: Principal,
    view: topics.ReaderView, page: int | None, size: int, may_post: bool,
) -> Fragment:
    topic = view.topic
    listing = await topics.posts_page(session, principal, topic, page=page, page_size=size)
    html = fragments.render_fragment(request, "forum/_posts.html", {
        "posts": listing.items, "topic": topic, "last_read": view.state.last_read,
        "may_post": may_post, "Status": Status,
    })
    editable_until = [e.post.created_at + topics.EDIT_WINDOW for e in listing.items
                      if e.editable]
    last_id = listing.items[-1].post.id if listing.items else 0
    return Fragment(html, PostsFacts(listing.page, listing.pages, last_id),
                    until=min(editable_until, default=None))


@routes.get("/forum/topics/{id}")
async def topic_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    topic_id = ident(request)
    quote_id = query_int(request, "quote")
    body = ""
    page = None if request.query.get("page") == "last" else query_int(request, "page", 1)
    context = await _topic_context(request, topic_id, page)
    if quote_id:
        async with request.app[DB].session() as session:
            quoted = await topics.get_post(session, principal, quote_id)
            names = await author_names(session, {quoted.author_id})
        if quoted.topic_id == topic_id:
            body = quote(quoted.body_source, names.get(quoted.author_id, ""))
    values = {"body": body, "quote_of": quote_id or "", "form_token": new_form_token()}
    return _render_topic(request, {**context, "values": values, "error": None})


@routes.post("/forum/topics/{id}/reply")
async def post_reply(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    topic_id = ident(request)
    form = await request.post()
    values = {"body": str(form.get("body", "")), "quote_of": str(form.get("quote_of", "")),
              "form_token": str(form.get("form_token", ""))[:64] or new_form_token()}

    async def attempt() -> topics.Written:
        async with request.app[DB].transaction() as session:
            return await topics.reply(
                session, principal, topic_id, body=values["body"],
                quote_of_id=form_int(values["quote_of"], "Цитата"),
                form_token=values["form_token"],
            )

    try:
        try:
            written = await attempt()
        except IntegrityError:
            written = await attempt()
    except NotFound:
        raise
    except UserError as exc:
        context = await _topic_context(request, topic_id, None)
        return _render_topic(request, {**context, "values": values, "error": exc.message},
                             status=exc.status)
    # Returned, not raised: an exception through every middleware costs a reply's CPU.
    return redirect(f"/forum/topics/{topic_id}?page=last#post-{written.post.id}")


@routes.get("/forum/topics/{id}/posts")
async def post_fragment(request: web.Request) -> web.Response:
    """One post (?post=ID) or the posts after one (?after=ID) as an HTML fragment, for
    the live page; empty when the reader may not see it (any more)."""
    principal, _ = signed_in(request)
    topic_id = ident(request)
    one = query_int(request, "post")
    after = query_int(request, "after", 0) or 0
    async with request.app[DB].session() as session:
        if one:
            entries = [e for e in await topics.posts_after(session, principal, topic_id,
                                                           one - 1) if e.post.id == one]
        else:
            entries = await topics.posts_after(session, principal, topic_id, after)
        topic, section = await topics.get_topic(session, principal, topic_id)
    return render(request, "forum/_posts.html", {
        "posts": entries, "topic": topic, "last_read": 0, "Status": Status,
        "may_post": audience.may_post_in_section(principal, section),
    })


@routes.get("/forum/posts/{id}/edit")
async def edit_form(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    async with request.app[DB].session() as session:
        post = await topics.get_post(session, principal, ident(request))
        topic, _ = await topics.get_topic(session, principal, post.topic_id)
    values = {"body": post.body_source, "title": topic.title}
    return render(request, "forum/post_edit.html",
                  {"post": post, "topic": topic, "values": values, "error": None})


@routes.post("/forum/posts/{id}/edit")
async def edit(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    post_id = ident(request)
    form = await request.post()
    title = form.get("title")
    values = {"body": str(form.get("body", "")), "title": str(title or "")}
    try:
        async with request.app[DB].transaction() as session:
            written = await topics.edit_post(
                session, principal, post_id, body=values["body"],
                title=str(title) if title is not None else None,
            )
    except NotFound:
        raise
    except UserError as exc:
        async with request.app[DB].session() as session:
            post = await topics.get_post(session, principal, post_id)
            topic, _ = await topics.get_topic(session, principal, post.topic_id)
        return render(request, "forum/post_edit.html",
                      {"post": post, "topic": topic, "values": values, "error": exc.message},
                      status=exc.status)
    raise web.HTTPSeeOther(f"/forum/topics/{written.topic.id}#post-{post_id}")


@routes.post("/forum/posts/{id}/report")
async def report(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.REPORT_POST)
    post_id = ident(request)
    form = await request.post()
    async with request.app[DB].transaction() as session:
        post = await topics.get_post(session, principal, post_id)
        await topics.report_post(session, principal, post_id, str(form.get("reason", "")))
    return render(request, "forum/reported.html", {"topic_id": post.topic_id})


@routes.post("/forum/topics/{id}/subscription")
async def subscription(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    topic_id = ident(request)
    form = await request.post()
    async with request.app[DB].transaction() as session:
        await topics.set_subscription(session, principal, topic_id,
                                      str(form.get("subscribed", "")) == "1")
    raise web.HTTPSeeOther(f"/forum/topics/{topic_id}")


@routes.get("/forum/search")
async def search_page(request: web.Request) -> web.Response:
    principal, _ = signed_in(request)
    require(principal, Action.READ_SCHOOL_FORUM)
    query = request.query.get("q", "")
    async with request.app[DB].session() as session:
        hits = await search.search(session, principal, query) if query.strip() else []
    return render(request, "forum/search.html", {"query": query, "hits": hits})
