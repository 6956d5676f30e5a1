#!/usr/bin/python3
"""gen_image_fixtures.py - the small image files tests/image/test_image.c decodes,
and the pixels it must find in them (tests/fixtures/images/expected.txt).

PNG files come from two independent writers: Pillow, for the kinds it writes
(8-bit gray and RGB, palette with transparency), and the minimal encoder below
for the kinds Pillow cannot write (16-bit RGB/RGBA, gray+alpha, 2-bit gray,
Adam7 interlacing), which cycles through all five scanline filters so that
the decoder's unfiltering is exercised too. Every file is read back with
Pillow where Pillow can represent it, to check the encoder. JPEG files are
written by Pillow and their expected pixels are Pillow's own decoding of them
(libjpeg-turbo; the test allows +-1 for another libjpeg version).

16-bit samples are expected to round to nearest: round(v * 255 / 65535),
computed here in floating point (no ties can occur).

Usage: /usr/bin/python3 tools/gen_image_fixtures.py [OUTDIR]
(default OUTDIR: tests/fixtures/images beside this script's parent).
"""
import os
import platform
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, features

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # samples per pixel -> PNG colour type (no palette here)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, row, prior, bpp):
    """One scanline (bytes) filtered with PNG filter `kind` (0..4)."""
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out[i] = (x - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def pack_rows(samples, depth):
    """samples (h, w, s) unsigned ints -> list of scanline byte strings."""
    h, w, s = samples.shape
    rows = []
    for y in range(h):
        flat = samples[y].reshape(-1)
        if depth == 16:
            rows.append(flat.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(flat.astype(np.uint8).tobytes())
        else:
            bits = "".join(format(int(v), "0%db" % depth) for v in flat)
            bits += "0" * (-len(bits) % 8)
            rows.append(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))
    return rows


def encode_png(samples, depth, interlace=False):
    """A PNG of samples (h, w, s), s = 1..4 samples per pixel, at bit depth
    `depth`, written with filters cycling 0..4 by scanline."""
    h, w, s = samples.shape
    bpp = max(1, depth * s // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = bytearray()
    k = 0
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows = pack_rows(sub, depth)
        prior = bytes(len(rows[0]))
        for row in rows:
            raw += filter_row(k % 5, row, prior, bpp)
            prior = row
            k += 1
    ihdr = struct.pack(">IIBBBBB", w, h, depth, COLOR_TYPE[s], 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def round16(v):
    return np.rint(v.astype(np.float64) * 255.0 / 65535.0).astype(np.uint8)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "fixtures", "images")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20240611)
    entries = []  # (file, pixels (h, w, c) uint8, tolerance)

    def write(name, data):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)

    # 8-bit gray and RGB, written by Pillow
    g8 = rng.integers(0, 256, (5, 7, 1), dtype=np.uint8)
    Image.fromarray(g8[:, :, 0], "L").save(os.path.join(out, "gray8.png"))
    entries.append(("gray8.png", g8, 0))
    rgb8 = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    Image.fromarray(rgb8, "RGB").save(os.path.join(out, "rgb8.png"), optimize=True)
    entries.append(("rgb8.png", rgb8, 0))

    # 16-bit gray with values on both sides of every rounding boundary
    k = rng.integers(0, 255, 35)
    g16 = (257 * k + np.where(np.arange(35) % 2 == 0, 128, 129)).astype(np.uint16)
    g16[:4] = [0, 65535, 128, 129]
    g16 = g16.reshape(5, 7, 1)
    write("gray16.png", encode_png(g16, 16))
    entries.append(("gray16.png", round16(g16), 0))
    assert np.array_equal(np.asarray(Image.open(os.path.join(out, "gray16.png"))).reshape(5, 7, 1), g16)

    # 2-bit gray: 0..3 scale to 0, 85, 170, 255; odd width pads each row
    g2 = rng.integers(0, 4, (4, 7, 1), dtype=np.uint8)
    write("gray2.png", encode_png(g2, 2))
    entries.append(("gray2.png", (g2 * 85).astype(np.uint8), 0))
    assert np.array_equal(np.asarray(Image.open(os.path.join(out, "gray2.png")).convert("L"))[:, :, None],
                          g2 * 85)

    # gray + alpha, 8 and 16 bit: alpha is dropped
    ga8 = rng.integers(0, 256, (3, 5, 2), dtype=np.uint8)
    write("ga8.png", encode_png(ga8, 8))
    entries.append(("ga8.png", ga8[:, :, :1], 0))
    assert np.array_equal(np.asarray(Image.open(os.path.join(out, "ga8.png")))[:, :, 0], ga8[:, :, 0])
    ga16 = rng.integers(0, 65536, (4, 3, 2), dtype=np.uint16)
    write("ga16.png", encode_png(ga16, 16))
    entries.append(("ga16.png", round16(ga16[:, :, :1]), 0))

    # 16-bit RGB, and 16-bit RGBA interlaced (Adam7 over a 10x9 image)
    rgb16 = rng.integers(0, 65536, (4, 6, 3), dtype=np.uint16)
    write("rgb16.png", encode_png(rgb16, 16))
    entries.append(("rgb16.png", round16(rgb16), 0))
    rgba16 = rng.integers(0, 65536, (9, 10, 4), dtype=np.uint16)
    write("rgba16_adam7.png", encode_png(rgba16, 16, interlace=True))
    entries.append(("rgba16_adam7.png", round16(rgba16[:, :, :3]), 0))
    # 8-bit RGB interlaced, checked against Pillow's reading of it
    rgb8i = rng.integers(0, 256, (11, 13, 3), dtype=np.uint8)
    write("rgb8_adam7.png", encode_png(rgb8i, 8, interlace=True))
    entries.append(("rgb8_adam7.png", rgb8i, 0))
    assert np.array_equal(np.asarray(Image.open(os.path.join(out, "rgb8_adam7.png"))), rgb8i)

    # palette (16 colours: Pillow writes 4 bits per pixel) with transparency
    pal = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    idx = rng.integers(0, 16, (5, 8), dtype=np.uint8)
    p_img = Image.fromarray(idx, "P")
    p_img.putpalette(pal.reshape(-1).tolist())
    p_img.save(os.path.join(out, "palette.png"), bits=4, transparency=3)
    entries.append(("palette.png", pal[idx], 0))
    back = Image.open(os.path.join(out, "palette.png"))
    assert back.mode == "P" and np.array_equal(np.asarray(back.convert("RGB")), pal[idx])

    # JPEG: colour 4:2:0, colour progressive, gray; odd sizes cross block edges
    yy, xx = np.mgrid[0:13, 0:17]
    smooth = np.stack([(xx * 15) % 256, (yy * 19) % 256, ((xx + yy) * 7) % 256], axis=2).astype(np.uint8)
    for name, kw in (("rgb420.jpg", dict(quality=90, subsampling=2)),
                     ("rgb_progressive.jpg", dict(quality=85, progressive=True))):
        Image.fromarray(smooth, "RGB").save(os.path.join(out, name), **kw)
        entries.append((name, np.asarray(Image.open(os.path.join(out, name)).convert("RGB")), 1))
    Image.fromarray(smooth[:, :, 0], "L").save(os.path.join(out, "gray.jpg"), quality=90)
    back = Image.open(os.path.join(out, "gray.jpg"))
    assert back.mode == "L"
    entries.append(("gray.jpg", np.asarray(back)[:, :, None], 1))

    with open(os.path.join(out, "expected.txt"), "w") as f:
        f.write("# Expected pixels of the image fixtures, written by tools/gen_image_fixtures.py\n")
        f.write("# Python %s, numpy %s, Pillow %s (libjpeg-turbo %s)\n"
                % (platform.python_version(), np.__version__, PIL.__version__,
                   features.version("libjpeg_turbo")))
        f.write("# Per file: a line 'FILE WIDTH HEIGHT CHANNELS TOLERANCE', then the\n"
                "# HEIGHT*WIDTH*CHANNELS values in row-major, channel-interleaved order.\n")
        for name, px, tol in entries:
            h, w, c = px.shape
            f.write("%s %d %d %d %d\n" % (name, w, h, c, tol))
            f.write(" ".join(str(int(v)) for v in px.reshape(-1)) + "\n")
    print("wrote %d fixtures to %s" % (len(entries), out))


if __name__ == "__main__":
    main()
