"""Readable chart text: the one style every figure of the app gets (issue 16: axis labels and
legends were light grey at 10 px).

`readable` decorates a figure builder; `style(fig)` sets dark text at 13 px (ticks 12 px) for
the whole figure, its axes and its legend wherever the builder left them unset, so a builder's
own choice (a larger title, a coloured annotation) stands.
"""
from __future__ import annotations

import functools

TEXT = "#31333F"      # Streamlit's body text colour
SIZE, TICK_SIZE = 13, 12


def style(fig):
    """``fig`` with readable text where it has none of its own (returns the same figure)."""
    font = fig.layout.font
    fig.update_layout(font=dict(size=font.size or SIZE, color=font.color or TEXT),
                      legend_font=dict(size=fig.layout.legend.font.size or TICK_SIZE,
                                       color=fig.layout.legend.font.color or TEXT))
    for each in (fig.for_each_xaxis, fig.for_each_yaxis):
        each(
            lambda ax: ax.update(tickfont=dict(size=ax.tickfont.size or TICK_SIZE,
                                               color=ax.tickfont.color or TEXT),
                                 title_font=dict(size=ax.title.font.size or SIZE,
                                                 color=ax.title.font.color or TEXT)))
    return fig


def readable(build):
    """Decorator of a figure builder: its figure goes through `style`."""
    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        return style(build(*args, **kwargs))
    return wrapper
