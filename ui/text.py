"""User text inside Streamlit markdown, made inert: the one helper every page uses.

Names that users type or upload (batch names, file names, campaign names) and core error texts
that may quote them are shown inside markdown (``st.markdown``, ``st.caption``, ``st.success``,
``st.error``, widget labels...). Interpolated raw, a batch named
``![t](http://host/_stcore/health?b)`` becomes a real ``<img>`` that every browser showing it
fetches, ``[click](http://evil)`` becomes a link, ``$x$`` becomes LaTeX and ``:red[...]`` colours
text. :func:`md` escapes every character that markdown (and Streamlit's extensions) give a
meaning, so the text reads exactly as typed and never turns into markup.
"""
from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that start
# markup anywhere in a line (links, images, emphasis, code, HTML, tables, LaTeX, Streamlit's
# :color[...] and :emoji: shortcodes, entities).
_INLINE = re.compile(r"([\\`*_{}\[\]()<>!|~$:&#])")
# Markup that only counts at the start of a line: lists, quotes, headings, ordered lists.
_LINE_START = re.compile(r"^(\s*)([-+>=]|\d+[.)])")
# Streamlit's markdown turns bare URLs and e-mail addresses into links after escapes are read,
# so a backslash cannot stop it: a zero-width space (invisible) breaks the pattern instead.
_AUTOLINK = re.compile(r"(?i)\b(h)(ttps?)|\b(w)(ww)|\b(f)(tp)|(@)")
ZWSP = "\u200b"


def md(value) -> str:
    """``value`` as text that markdown shows literally: markup characters backslash-escaped,
    bare URLs and e-mail addresses broken by an invisible zero-width space (no link), line
    breaks turned into spaces (a name is one line). None gives ""."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    text = _AUTOLINK.sub(lambda m: (m.group(1) or m.group(3) or m.group(5) or "") + ZWSP
                         + (m.group(2) or m.group(4) or m.group(6) or m.group(7) or ""), text)
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "".join("\\" + c if not c.isdigit() else c
                                                           for c in m.group(2)), text)
