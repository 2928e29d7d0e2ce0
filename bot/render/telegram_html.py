"""Telegram-flavoured HTML: what a person reads, and whether Telegram would accept it.

Two views of the same string are offered:

* :func:`html_to_text` - what a person reading the message in a Telegram client sees,
  with link targets spelled out (``label (url)``).  Lenient: never raises.
* :func:`parse_telegram_html` / :func:`telegram_html_errors` - a re-implementation of the
  Bot API's own HTML parser (tdlib ``parse_html``), giving the message text and
  ``MessageEntity`` list Telegram would store, or the reason Telegram refuses the string
  (the part after ``Bad Request: can't parse entities: ``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = [
    "SUPPORTED_TAGS",
    "ParsedHTML",
    "TelegramHTMLError",
    "html_to_text",
    "parse_telegram_html",
    "telegram_html_errors",
    "utf16_len",
]

#: Tags the Bot API accepts with ``parse_mode=HTML``.
SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

# The only named entities Telegram decodes; every other ``&name;`` stays literally visible.
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _unit(char: str) -> int:
    """UTF-16 units of one character: two above the Basic Multilingual Plane (emoji), else one."""
    return 2 if ord(char) > 0xFFFF else 1


# --------------------------------------------------------------------------- person's view


# HTMLParser decodes entities the HTML5 way (``&nbsp;``, ``&T`` ...); Telegram decodes only
# a few.  So every "&" is hidden from HTMLParser behind this noncharacter and the text is
# decoded afterwards with Telegram's own rules (see _decode_entity).
_AMP = "\ufdd0"


def _decode_text(text: str) -> str:
    if "&" not in text and _AMP not in text:  # most text has no entity at all
        return text
    text = text.replace(_AMP, "&")
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&" and (decoded := _decode_entity(text, i)) is not None:
            out.append(decoded[0])
            i = decoded[1]
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self._links: list[tuple[str, int]] = []  # (href, index into parts where the label starts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = next((value or "" for name, value in attrs if name == "href"), "")
            self._links.append((_decode_text(href), len(self.parts)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <br/> and friends: Telegram refuses them; a reader would see nothing

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or not self._links:
            return
        href, start = self._links.pop()
        label = "".join(self.parts[start:])
        if href and label.strip() != href and not href.startswith("tg://"):
            self.parts.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        self.parts.append(_decode_text(data))


def html_to_text(html: str) -> str:
    """What a person reads in Telegram for a message sent with ``parse_mode=HTML``.

    Tags are removed; entities are unescaped the way Telegram does it (only ``&lt;``,
    ``&gt;``, ``&amp;``, ``&quot;`` and numeric ones, so ``&lt;b&gt;`` reads ``<b>`` while
    ``&nbsp;`` stays visible); links read ``label (url)`` unless the label is the url
    itself; leading/trailing whitespace is dropped as Telegram does.  Never raises, even
    for HTML Telegram would refuse.
    """
    reader = _Reader()
    reader.feed(html.replace("&", _AMP))
    reader.close()
    return "".join(reader.parts).strip()


# --------------------------------------------------------------------------- Telegram's view


class TelegramHTMLError(ValueError):
    """The reason Telegram gives after ``Bad Request: can't parse entities: ``."""


@dataclass
class ParsedHTML:
    """The text and entities Telegram stores for an HTML message."""

    text: str
    entities: list[dict] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int  # UTF-16 offset into the result
    text_start: int  # index into the result parts
    expandable: bool = False
    custom_emoji_id: str = ""


def _is_space(ch: str) -> bool:
    # tdlib's is_space; "\0" doubles as the end-of-text sentinel.
    return ch in " \t\r\n\0\v"


def _is_name_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in ".-")


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an entity at ``text[pos] == "&"``, like tdlib's decode_html_entity.

    Returns (character, new position) or None when it is not a recognised entity (the
    ``&`` is then kept literally).  The trailing ``;`` is optional, as in Telegram.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_telegram_html(html: str) -> ParsedHTML:
    """Parse ``html`` exactly as the Bot API does for ``parse_mode=HTML``.

    Returns the message text (untrimmed) and Bot API ``MessageEntity`` dicts (UTF-16
    offsets, sorted like Telegram's).  Raises :class:`TelegramHTMLError` with Telegram's
    wording when the string would be refused.
    """
    n = len(html)

    def at(i: int) -> str:
        return html[i] if i < n else "\0"

    def byte_offset(i: int) -> int:
        return len(html[:i].encode("utf-8"))

    def fail(message: str) -> TelegramHTMLError:
        return TelegramHTMLError(message)

    parts: list[str] = []
    utf16_offset = 0
    stack: list[_Open] = []
    entities: list[dict] = []
    i = 0
    while i < n:
        c = html[i]
        if c == "&":
            decoded = _decode_entity(html, i)
            if decoded is not None:
                char, i = decoded
                parts.append(char)
                utf16_offset += _unit(char)
                continue
        if c != "<":
            parts.append(c)
            utf16_offset += _unit(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # ---- start tag
            while not _is_space(at(i)) and at(i) != ">":
                i += 1
            if at(i) == "\0":
                raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = html[begin + 1 : i].lower()
            if tag not in SUPPORTED_TAGS:
                raise fail(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')

            opened = _Open(tag=tag, argument="", offset=utf16_offset, text_start=len(parts))
            while at(i) != ">":
                while at(i) != "\0" and _is_space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                if at(i) == "\0":
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
                name_start = i
                while not _is_space(at(i)) and at(i) not in "=>":
                    i += 1
                attribute = html[name_start:i].lower()
                if not attribute:
                    raise fail(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while at(i) != "\0" and _is_space(at(i)):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attribute == "expandable":
                        opened.expandable = True
                        continue
                    raise fail(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while at(i) != "\0" and _is_space(at(i)):
                    i += 1
                if at(i) == "\0":
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
                if at(i) not in "'\"":
                    token_start = i
                    while _is_name_char(at(i)):
                        i += 1
                    value = html[token_start:i].lower()
                    if not _is_space(at(i)) and at(i) != ">":
                        raise fail(
                            "Unexpected end of name token at byte offset "
                            f"{byte_offset(token_start)}"
                        )
                else:
                    quote = html[i]
                    i += 1
                    chars: list[str] = []
                    while at(i) != quote and at(i) != "\0":
                        if html[i] == "&":
                            decoded = _decode_entity(html, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(html[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    if at(i) == "\0":
                        raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                    value = "".join(chars)

                if tag == "a" and attribute == "href":
                    opened.argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    opened.argument = value[len("language-") :]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    opened.argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    if not (value.isascii() and value.isdigit() and int(value) > 0):
                        raise fail("Invalid custom emoji identifier specified")
                    opened.custom_emoji_id = value
                # every other attribute is silently ignored, as Telegram does

            if tag == "span" and opened.argument != "spoiler":
                raise fail(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append(opened)
            i += 1  # past ">"
            continue

        # ---- end tag
        if not stack:
            raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while not _is_space(at(i)) and at(i) != ">":
            i += 1
        end_tag = html[begin + 2 : i].lower()
        while at(i) != "\0" and _is_space(at(i)):
            i += 1
        if at(i) != ">":
            raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        opened = stack[-1]
        if end_tag and end_tag != opened.tag:
            raise fail(
                f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                f'expected "</{opened.tag}>", found "</{end_tag}>"'
            )
        stack.pop()
        i += 1  # past ">"
        _close_entity(opened, utf16_offset, "".join(parts[opened.text_start :]), entities)

    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        entity.pop("_language", None)  # only meaningful inside an enclosing <pre>
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedHTML(text="".join(parts), entities=entities)


def _close_entity(opened: _Open, end_offset: int, inner: str, entities: list[dict]) -> None:
    length = end_offset - opened.offset
    if length <= 0:
        return  # Telegram drops empty entities
    entity: dict = {"offset": opened.offset, "length": length}
    tag = opened.tag
    if tag == "a":
        url = opened.argument or inner
        if not url:
            return
        entity.update(type="text_link", url=url)
    elif tag == "tg-emoji":
        if not opened.custom_emoji_id:
            return
        entity.update(type="custom_emoji", custom_emoji_id=opened.custom_emoji_id)
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if opened.expandable else "blockquote"
    elif tag == "code":
        entity["type"] = "code"
        if opened.argument:
            entity["_language"] = opened.argument
    elif tag == "pre":
        entity["type"] = "pre"
        # <pre><code class="language-x">...</code></pre> is a pre block with a language
        if entities:
            last = entities[-1]
            if (
                last["type"] == "code"
                and last["offset"] == entity["offset"]
                and last["length"] == length
            ):
                entities.pop()
                if last.get("_language"):
                    entity["language"] = last["_language"]
    else:
        entity["type"] = _ENTITY_TYPES[tag]
    entities.append(entity)


def telegram_html_errors(html: str) -> str | None:
    """Why Telegram would refuse ``html`` with ``parse_mode=HTML``, or None if it is fine.

    The reason is worded as Telegram words it after ``can't parse entities: ``.
    """
    try:
        parse_telegram_html(html)
    except TelegramHTMLError as exc:
        return str(exc)
    return None
