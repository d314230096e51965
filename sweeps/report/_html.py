"""The report page: one self-contained HTML file with its CSS, tables and embedded figures.

The page sets `data-expected` on `<body>` to its number of images and, once loaded,
`data-rendered` to the number that decoded, so a headless browser can prove the plots render.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from sweeps.report._look import Plot

__all__ = ["escape", "figures", "page", "table"]


_CSS = """
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#e3e7ec; --accent:#4c78a8; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
main { max-width:1100px; margin:0 auto; padding:28px 32px 48px; }
header { border-bottom:3px solid var(--accent); padding-bottom:14px; margin-bottom:20px; }
h1 { font-size:28px; margin:0 0 4px; letter-spacing:-0.01em; }
h1 small { font-size:16px; font-weight:500; color:var(--muted); margin-left:8px; }
h2 { font-size:19px; margin:34px 0 12px; padding-bottom:4px; border-bottom:1px solid var(--line); }
p.lede { margin:2px 0 12px; color:var(--muted); }
dl.meta { display:flex; flex-wrap:wrap; gap:8px; margin:10px 0 0; }
dl.meta div { background:#fff; border:1px solid var(--line); border-radius:6px; padding:4px 10px; }
dl.meta dt { display:inline; color:var(--muted); font-size:12px; text-transform:uppercase;
  letter-spacing:.04em; margin-right:6px; }
dl.meta dd { display:inline; margin:0; font-weight:600; font-size:14px; }
code, .mono { font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace; font-size:13px; }
table { border-collapse:collapse; background:#fff; border:1px solid var(--line); font-size:14px;
  min-width:50%; }
th, td { padding:5px 12px; border-bottom:1px solid var(--line); text-align:left; }
th { background:#eef1f5; font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num { white-space:nowrap; }
.pair { display:flex; flex-wrap:wrap; gap:18px; align-items:flex-start; }
.pair table { flex:1 1 380px; min-width:0; }
.points table { font-size:13px; width:100%; }
.points th { vertical-align:bottom; }
tbody tr:nth-child(even) td { background:#fafbfc; }
.scroll { overflow-x:auto; max-height:640px; overflow-y:auto; }
figure { margin:18px 0; background:#fff; border:1px solid var(--line); border-radius:8px;
  padding:12px 12px 8px; box-shadow:0 1px 2px rgba(0,0,0,.04); }
figure img { display:block; width:100%; height:auto; }
figcaption { color:var(--muted); font-size:13.5px; margin-top:6px; }
figcaption b { color:var(--ink); }
.note { color:var(--muted); font-size:13.5px; }
.fail { color:#b42318; }
footer { margin-top:40px; color:var(--muted); font-size:12.5px; }
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.dataset.expected = String(imgs.length);
  document.body.dataset.rendered = String(ok.length);
});
"""


def escape(text: Any) -> str:
    """Text (or any value) escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def _meta(items: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)
    return f'<dl class="meta">{cells}</dl>'


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool],
          cls: str = "") -> str:
    """An HTML table; `numeric` right-aligns a column; a `cls` wraps it in a scrolling div."""
    def cell(tag: str, value: Any, num: bool) -> str:
        text = escape(value)
        if tag == "th":  # long dotted parameter keys may break after a dot or an underscore
            text = text.replace(".", ".<wbr>").replace("_", "_<wbr>")
        return f'<{tag}{" class=num" if num else ""}>{text}</{tag}>'

    head = "".join(cell("th", h, n) for h, n in zip(header, numeric, strict=True))
    body = "".join("<tr>" + "".join(cell("td", v, n) for v, n in zip(r, numeric, strict=True))
                   + "</tr>" for r in rows)
    markup = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll {cls}">{markup}</div>' if cls else markup


def figures(plots: Sequence[Plot], start: int = 1) -> str:
    """The plots as numbered (from `start`), captioned figures with their PNGs inline."""
    out = []
    for i, p in enumerate(plots, start):
        out.append(
            f'<figure id="fig-{i}"><img src="data:image/png;base64,{p.png_b64}" '
            f'alt="{escape(p.alt)}"><figcaption><b>Figure {i}. {escape(p.title)}.</b> '
            f"{escape(p.caption)}</figcaption></figure>")
    return "\n".join(out)


def page(title: str, subtitle: str, lede: str, meta: Sequence[tuple[str, Any]],
          sections: Sequence[tuple[str, str]], n_images: int, source: str) -> str:
    """The whole page: a header (title, lede, `meta` badges), one section per (heading,
    HTML), and a footer naming the twinecon version and the `source` folder."""
    try:
        version = metadata.version("twinecon")
    except metadata.PackageNotFoundError:
        version = "unknown"
    body = "\n".join(f"<section><h2>{escape(h)}</h2>\n{content}</section>"
                     for h, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="twinecon {escape(version)}">
<title>{escape(title)} — {escape(subtitle)}</title>
<style>{_CSS}</style>
</head>
<body data-expected="{n_images}">
<main>
<header>
<h1>{escape(title)}<small>{escape(subtitle)}</small></h1>
<p class="lede">{escape(lede)}</p>
{_meta(meta)}
</header>
{body}
<footer>Written by twinecon {escape(version)} from <code>{escape(source)}</code>.
Money is shown in tokens; the run's files keep exact base units.</footer>
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""
