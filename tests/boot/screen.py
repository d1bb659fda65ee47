"""Reading the hypervisor's framebuffer console back from a QEMU screendump.

The hypervisor draws its log on a UEFI framebuffer with a PSF console font
(hypervisor/common/fbcon.c), in cells of the font's size from the screen's
top-left corner, on a black background. A screendump (PPM, P6) is read
here cell by cell: a pixel is foreground when it is not black, and a cell
is the character whose glyph bitmap is exactly those foreground pixels.
The font is the very file the hypervisor links in
(build/hypervisor/font/console.psf; PSF formats as in kbd's documentation).

    font = load_font()
    rows = screen_text(read_ppm(path), font)   # a list of strings

Python 3 standard library only.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FONT_PATH = os.path.join(ROOT, "build", "hypervisor", "font", "console.psf")
UNKNOWN = "\x7f"   # a cell that matches no ASCII glyph


class Font:
    """A PSF font's ASCII glyphs: width, height and {bitmap: character}."""

    def __init__(self, width, height, glyphs):
        self.width, self.height = width, height
        self.by_bitmap = {}
        for ch, bitmap in glyphs.items():
            self.by_bitmap.setdefault(bitmap, ch)


def _ascii_from_table(table, nr_glyphs, unit, separator, startseq):
    """{ASCII code: glyph index} from a PSF Unicode table of 1-byte (UTF-8)
    or 2-byte (UCS-2) units; combining sequences are skipped."""
    mapping, off = {}, 0
    for g in range(nr_glyphs):
        in_seq = False
        while True:
            v = table[off] if unit == 1 else struct.unpack_from("<H", table, off)[0]
            off += unit
            if v == separator:
                break
            if v == startseq:
                in_seq = True
            elif not in_seq and v < 128:
                mapping.setdefault(v, g)
    return mapping


def parse_psf(data):
    """A Font from the bytes of a PSF1 or PSF2 file (ASCII 0x20-0x7E)."""
    if data[:2] == b"\x36\x04":
        mode, height = data[2], data[3]
        n, width, row_bytes, start = (512 if mode & 1 else 256), 8, 1, 4
        glyph_bytes = height
        table = (data[start + n * glyph_bytes:], 2, 0xFFFF, 0xFFFE) if mode & 2 else None
    elif data[:4] == b"\x72\xb5\x4a\x86":
        _, start, flags, n, glyph_bytes, height, width = struct.unpack_from("<7I", data, 4)
        row_bytes = (width + 7) // 8
        table = (data[start + n * glyph_bytes:], 1, 0xFF, 0xFE) if flags & 1 else None
    else:
        raise ValueError("not a PSF font")
    mapping = _ascii_from_table(table[0], n, *table[1:]) if table else \
        {c: c for c in range(min(n, 128))}
    glyphs = {}
    for c in range(0x20, 0x7F):
        g = mapping.get(c)
        if g is not None:
            bits = data[start + g * glyph_bytes:start + (g + 1) * glyph_bytes]
            glyphs[chr(c)] = _norm(bits, row_bytes, width, height)
    return Font(width, height, glyphs)


def _norm(bits, row_bytes, width, height):
    """A glyph as a tuple of per-row integers of width bits (MSB leftmost)."""
    rows = []
    for y in range(height):
        v = int.from_bytes(bits[y * row_bytes:(y + 1) * row_bytes], "big")
        rows.append(v >> (row_bytes * 8 - width))
    return tuple(rows)


def load_font(path=FONT_PATH):
    with open(path, "rb") as f:
        return parse_psf(f.read())


def read_ppm(path):
    """(width, height, bytes of RGB triples) from a binary PPM (P6, maxval 255)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError("%s: not a P6 PPM with maxval 255" % path)
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1:pos + 1 + w * h * 3]


def screen_text(image, font):
    """The text grid of a screendump: one string a row of cells, trailing
    blanks cut; UNKNOWN where a cell matches no glyph."""
    w, h, px = image
    lit = [[px[(y * w + x) * 3:(y * w + x) * 3 + 3] != b"\0\0\0" for x in range(w)]
           for y in range(h)]
    rows = []
    for r in range(h // font.height):
        line = []
        for c in range(w // font.width):
            cell = []
            for y in range(r * font.height, (r + 1) * font.height):
                v = 0
                for x in range(c * font.width, (c + 1) * font.width):
                    v = (v << 1) | lit[y][x]
                cell.append(v)
            line.append(font.by_bitmap.get(tuple(cell), UNKNOWN))
        rows.append("".join(line).rstrip())
    return rows
