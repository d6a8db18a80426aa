"""A very small SVG writer for the run report (kernel/report/).

Why our own and not a library: the report needs a dozen element kinds
(rect, line, path, text, g, title), must be byte-stable for the same run
(the tests compare it with saved references) and must not add a runtime
dependency to an emulator whose only one is Unicorn.  svgwrite, the usual
choice, is no longer maintained; drawsvg and matplotlib pull in far more
than rectangles and text and format numbers their own way.  Here every
number goes through one formatter (fixed precision, no exponent), every
attribute is escaped, and attribute order is the order the caller gave.
"""

from html import escape


def num(v):
    """A coordinate as text: integers bare, others with one decimal."""
    if isinstance(v, int):
        return str(v)
    text = "%.1f" % v
    return text[:-2] if text.endswith(".0") else text


def attrs(**kw):
    """' x="1" class="a"' from keyword arguments; a trailing '_' is dropped
    (class_ -> class) and other '_' become '-' (font_size -> font-size);
    None values are left out."""
    out = []
    for key, value in kw.items():
        if value is None:
            continue
        name = key[:-1] if key.endswith("_") else key.replace("_", "-")
        text = num(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else str(value)
        out.append(' %s="%s"' % (name, escape(text, quote=True)))
    return "".join(out)


class Svg:
    """An <svg> being written: call the shape methods, then str() it."""

    def __init__(self, width, height, label):
        self.width = width
        self.height = height
        self.parts = []
        self.label = label
        self.defs = []
        self.defined = set()

    def define(self, ident, text):
        """Add `text`, a shape or pattern with id `ident`, to the <defs>
        (drawn only where something names it), unless it is there."""
        if ident not in self.defined:
            self.defined.add(ident)
            self.defs.append(text)

    def use(self, ref, x, y, **kw):
        """A copy of the defined shape `ref` moved to (x, y): a shape drawn
        many times is written once."""
        self.add("<use%s/>" % attrs(href="#" + ref, x=x, y=y, **kw))

    def add(self, text):
        self.parts.append(text)

    def rect(self, x, y, w, h, title=None, **kw):
        body = "<title>%s</title>" % escape(title) if title else ""
        if body:
            self.add("<rect%s>%s</rect>" % (attrs(x=x, y=y, width=w, height=h, **kw), body))
        else:
            self.add("<rect%s/>" % attrs(x=x, y=y, width=w, height=h, **kw))

    def line(self, x1, y1, x2, y2, **kw):
        self.add("<line%s/>" % attrs(x1=x1, y1=y1, x2=x2, y2=y2, **kw))

    def path(self, d, **kw):
        self.add("<path%s/>" % attrs(d=d, **kw))

    def circle(self, cx, cy, r, title=None, **kw):
        body = "<title>%s</title>" % escape(title) if title else ""
        self.add("<circle%s>%s</circle>" % (attrs(cx=cx, cy=cy, r=r, **kw), body))

    def text(self, x, y, text, **kw):
        self.add("<text%s>%s</text>" % (attrs(x=x, y=y, **kw), escape(text)))

    def open_group(self, **kw):
        self.add("<g%s>" % attrs(**kw))

    def close_group(self):
        self.add("</g>")

    def __str__(self):
        defs = "<defs>%s</defs>\n" % "".join(self.defs) if self.defs else ""
        return ('<svg xmlns="http://www.w3.org/2000/svg"%s>\n<title>%s</title>\n%s%s\n</svg>' % (
            attrs(width=self.width, height=self.height,
                  viewBox="0 0 %s %s" % (num(self.width), num(self.height)),
                  role="img", font_family="monospace", font_size=11),
            escape(self.label), defs, "\n".join(self.parts)))
