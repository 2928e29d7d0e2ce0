import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.telegram_html import (
    TelegramHTMLError,
    html_to_text,
    parse_telegram_html,
    telegram_html_errors,
    utf16_len,
)

# --------------------------------------------------------------------------- html_to_text


def test_html_to_text_removes_tags_and_keeps_their_text():
    assert html_to_text("<b>Down</b> in <i>Pakistan</i> since <u>09:00</u>") == (
        "Down in Pakistan since 09:00"
    )


def test_html_to_text_shows_escaped_tags_as_literal_text():
    assert html_to_text("&lt;b&gt;not bold&lt;/b&gt;") == "<b>not bold</b>"


def test_html_to_text_unescapes_the_entities_telegram_knows():
    assert html_to_text("a &amp; b &quot;c&quot; &#65;&#x42; 5 &gt 3") == 'a & b "c" AB 5 > 3'


def test_html_to_text_leaves_entities_telegram_does_not_know_visible():
    assert html_to_text("AT&T&nbsp;x &copy;") == "AT&T&nbsp;x &copy;"


def test_html_to_text_spells_out_link_targets():
    assert html_to_text('see <a href="https://status.example/x">status</a>') == (
        "see status (https://status.example/x)"
    )


def test_html_to_text_does_not_repeat_a_link_that_is_its_own_label():
    assert html_to_text('<a href="https://x.example">https://x.example</a>') == "https://x.example"


def test_html_to_text_unescapes_link_targets():
    assert html_to_text('<a href="https://e.example/?a=1&amp;b=2">q</a>') == (
        "q (https://e.example/?a=1&b=2)"
    )


def test_html_to_text_keeps_pre_and_code_content_verbatim():
    text = html_to_text('<pre><code class="language-python">if a &lt; b:\n    x()</code></pre>')
    assert text == "if a < b:\n    x()"


def test_html_to_text_keeps_blockquote_and_spoiler_text():
    assert html_to_text("<blockquote expandable>quoted</blockquote>") == "quoted"
    assert html_to_text('<span class="tg-spoiler">secret</span> <tg-spoiler>s2</tg-spoiler>') == (
        "secret s2"
    )


def test_html_to_text_drops_surrounding_whitespace_like_telegram():
    assert html_to_text("\n  <b>hi</b>\n\n") == "hi"


def test_html_to_text_never_raises_on_html_telegram_would_refuse():
    assert html_to_text("a < b <b>unclosed") == "a < b unclosed"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufdd0")))
def test_escaped_text_reads_back_as_itself(text):
    escaped = html.escape(text)
    assert html_to_text(escaped) == text.strip()
    assert telegram_html_errors(escaped) is None
    assert parse_telegram_html(escaped).text == text


# --------------------------------------------------------------------------- telegram_html_errors


@pytest.mark.parametrize(
    "markup",
    [
        "plain text",
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins>",
        "<s>s</s><strike>k</strike><del>d</del>",
        '<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>',
        '<a href="https://example.com/?q=1&amp;r=2">link</a>',
        "<code>x</code><pre>y</pre>",
        '<pre><code class="language-python">print(1)</code></pre>',
        "<blockquote>q</blockquote><blockquote expandable>e</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "<B>upper case tags</B>",
        "<b>closed by</>",
        "&lt;&gt;&amp;&quot;&#65;&#x1F600;",
        "AT&T stays literal",
        "<b>nested <i>fine</i></b>",
    ],
)
def test_telegram_accepts_supported_markup(markup):
    assert telegram_html_errors(markup) is None


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("a <", "Unclosed start tag at byte offset 2"),
        ("x<b", "Unclosed start tag at byte offset 1"),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("stray</b>", "Unexpected end tag at byte offset 5"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            '<a href="x" target>y</a>',
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
        ("é<blink>", 'Unsupported start tag "blink" at byte offset 2'),
    ],
)
def test_telegram_refuses_what_it_cannot_parse(markup, reason):
    assert telegram_html_errors(markup) == reason


def test_parse_raises_telegram_html_error_with_the_reason():
    with pytest.raises(TelegramHTMLError, match="Unsupported start tag"):
        parse_telegram_html("<div>x</div>")


# --------------------------------------------------------------------------- parse_telegram_html


def test_parse_gives_text_and_entities_in_utf16_offsets():
    parsed = parse_telegram_html('😀 <b>down</b> <a href="https://e.example">here</a>')
    assert parsed.text == "😀 down here"
    assert parsed.entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 4, "type": "text_link", "url": "https://e.example"},
    ]


def test_parse_merges_pre_code_into_a_pre_block_with_language():
    parsed = parse_telegram_html('<pre><code class="language-python">x = 1</code></pre>')
    assert parsed.entities == [{"offset": 0, "length": 5, "type": "pre", "language": "python"}]


def test_parse_marks_expandable_blockquotes_and_drops_empty_entities():
    parsed = parse_telegram_html("<b></b><blockquote expandable>q</blockquote>")
    assert parsed.entities == [{"offset": 0, "length": 1, "type": "expandable_blockquote"}]


def test_utf16_len_counts_astral_characters_twice():
    assert utf16_len("a😀") == 3
