"""Image files decoded, cropped and resized by libfocal, as `focal predict` reads them."""
import ctypes

import numpy as np

from focal import _lib
from focal._lib import Struct, check


def _release(img):
    _lib.lib.focal_image_release(img.ptr)


def load(paths, width, height, channels, fundus_crop):
    """uint8 array (N, channels, height, width) of the files at paths: decode,
    the retina box when fundus_crop, resize, then gray replicated to RGB or RGB
    to BT.601 luma to match channels. An image smaller than the size is refused."""
    out = np.empty((len(paths), channels, height, width), dtype=np.uint8)
    for i, path in enumerate(paths):
        img, crop, small = Struct("focal_image"), Struct("focal_image"), Struct("focal_image")
        try:
            check(_lib.lib.focal_image_read(str(path).encode(), img.ptr))
            if img["width"] < width or img["height"] < height:
                raise ValueError("%s: the image is %dx%d, smaller than the run's input %dx%d"
                                 % (path, img["width"], img["height"], width, height))
            src = img
            if fundus_crop:
                box = [ctypes.c_int() for _ in range(4)]
                _lib.lib.focal_image_fundus_box(img.ptr, *[ctypes.byref(b) for b in box])
                x, y, w, h = (b.value for b in box)
                if w != img["width"] or h != img["height"]:
                    check(_lib.lib.focal_image_crop(crop.ptr, img.ptr, x, y, w, h))
                    src = crop
            check(_lib.lib.focal_image_resize(small.ptr, src.ptr, width, height))
            ch = small["channels"]
            px = np.ctypeslib.as_array(ctypes.cast(small["data"], ctypes.POINTER(ctypes.c_uint8)),
                                       shape=(height, width, ch)).astype(np.uint32)
            if ch == 1 and channels == 3:
                px = np.repeat(px, 3, axis=2)
            elif ch == 3 and channels == 1:
                px = ((299 * px[..., 0] + 587 * px[..., 1] + 114 * px[..., 2] + 500) // 1000)[..., None]
            out[i] = px.transpose(2, 0, 1).astype(np.uint8)
        finally:
            for s in (img, crop, small):
                _release(s)
    return out
