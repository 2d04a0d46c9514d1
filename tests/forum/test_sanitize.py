"""Plain posts skip bleach (forum.sanitize): whatever an author types, the HTML stored is
the one bleach would have made."""

from __future__ import annotations

import random

from forum import sanitize

# Pieces of what authors type, markup and the characters HTML parsing treats specially.
PIECES = [
    *"ab xyzАБвгд.,:;!?-_*`~#>[]()<>&\"'/\\\n\t 0123456789",
    "**", "__", "\n\n", "  \n", "- ", "1. ", "> ", "    ", "```", "# ", "###### ", "---",
    "&amp;", "&amp;amp;", "&quot;", "&lt;", "&#46;", "&#x41;", "&nbsp;", "&copy;",
    "http://", "example.com", "x.ru", "@", "mailto:", "<b>", "ſ", "K",
    "\x00", "\x01", "\x0c", "\r", "\x7f", "\x85", "\u200b", "\u2028", "\ufffe",
    "\U0001F600", "\U0001fffe",
]


def through_bleach(source: str) -> str:
    rendered = sanitize._HEADING.sub(r"<\1h3>", sanitize._markdown.render(source))
    return sanitize._cleaner.clean(rendered).strip()


def test_plain_posts_come_out_as_bleach_makes_them() -> None:
    plain = [
        "Спасибо, **учту**!", "Ответ: *да*, поеду.\n\nещё абзац", "строка  \nперенос",
        "> цитата\n\n- раз\n- два\n\n1. три", "`код <b>` и\n\n    блок & кода", "# Заголовок",
        "кавычки \"так\" & 'так' <x>", "эмодзи \U0001F600",
    ]
    for source in plain:
        assert sanitize.render(source) == through_bleach(source), source
    assert sum(sanitize._already_clean(sanitize._markdown.render(s)) for s in plain) >= 6


def test_any_mix_of_markup_comes_out_as_bleach_makes_it() -> None:
    chance = random.Random(13)
    for _ in range(3000):
        source = "".join(chance.choice(PIECES) for _ in range(chance.randint(1, 40)))
        assert sanitize.render(source) == through_bleach(source), repr(source)


def test_links_still_go_through_bleach() -> None:
    assert sanitize.render("см. example.org") == (
        '<p>см. <a href="http://example.org" rel="nofollow noopener">example.org</a></p>'
    )
    assert sanitize.render("[сайт](https://example.org)") == (
        '<p><a href="https://example.org" rel="nofollow noopener">сайт</a></p>'
    )
