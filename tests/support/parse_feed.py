"""Reads an Atom or RSS document on standard input and prints what feedparser makes of it as
JSON: whether it was well-formed (bozo), the feed's fields and every entry's. HTML is left as
sent (no sanitizing, no URI resolution), so the caller sees exactly what the server wrote."""
import json
import sys

import feedparser

d = feedparser.parse(sys.stdin.buffer.read(), sanitize_html=False, resolve_relative_uris=False)


def links(obj):
    return [{"rel": l.get("rel"), "type": l.get("type"), "href": l.get("href")} for l in obj.get("links", [])]


out = {
    "bozo": bool(d.bozo),
    "bozo_exception": str(d.get("bozo_exception", "")),
    "version": d.version,
    "feed": {
        "id": d.feed.get("id"),
        "title": d.feed.get("title"),
        "updated": d.feed.get("updated"),
        "links": links(d.feed),
    },
    "entries": [
        {
            "id": e.get("id"),
            "title": e.get("title"),
            "link": e.get("link"),
            "links": links(e),
            "author": e.get("author"),
            "author_detail": dict(e.get("author_detail", {})),
            "published": e.get("published"),
            "updated": e.get("updated"),
            "content": [{"type": c.get("type"), "value": c.get("value")} for c in e.get("content", [])],
        }
        for e in d.entries
    ],
}
json.dump(out, sys.stdout)
