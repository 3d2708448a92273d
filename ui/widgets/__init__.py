"""Reusable widgets, one module each, each with `show(key, ...) -> value`.

`key` prefixes every Streamlit widget key the widget creates, so the same widget can appear
twice on a page and tests can find its parts (e.g. ``f"{key}.margin"``).
"""
