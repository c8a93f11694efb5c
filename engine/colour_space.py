"""sRGB <-> CIELAB under D65 (2° observer), through the sRGB transfer curve (IEC 61966-2-1).

RGB values are in [0, 1] and gamma-encoded, as stored in an image file;
CIELAB has L* in [0, 100] and a*, b* roughly in [-128, 127].  Distances in
CIELAB are closer to perceived colour differences than in RGB (the lecture
clusters RGB; the window and ``quantise --space lab`` offer both).

Embedded colour profiles are not read: every image is taken as sRGB.
"""

import numpy as np
from numba import njit, prange

# Linear sRGB -> CIE XYZ, and D65's white point (Y = 1), as scikit-image and most references use them.
XYZ_FROM_LINEAR_RGB = np.array([[0.412453, 0.357580, 0.180423],
                                [0.212671, 0.715160, 0.072169],
                                [0.019334, 0.119193, 0.950227]])
LINEAR_RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_LINEAR_RGB)
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
# CIE's f(t): a cube root above (6/29)^3, a line below it
_EPSILON = (6.0 / 29.0) ** 3
_SLOPE = (29.0 / 6.0) ** 2 / 3.0  # 7.787...
_OFFSET = 4.0 / 29.0


@njit(cache=True, inline="always")
def _linear(c):
    """The sRGB transfer curve undone: encoded c in [0, 1] -> linear light."""
    if c <= 0.04045:
        return c / 12.92
    return ((c + 0.055) / 1.055) ** 2.4


@njit(cache=True, inline="always")
def _f(t):
    if t > _EPSILON:
        return np.cbrt(t)
    return _SLOPE * t + _OFFSET


@njit(parallel=True, cache=True, nogil=True)
def _srgb_to_lab(rgb, m, white, out):
    """out[n] = (L*, a*, b*) of the encoded sRGB colour rgb[n]; both (N, 3) float64."""
    for n in prange(rgb.shape[0]):
        r = _linear(rgb[n, 0])
        g = _linear(rgb[n, 1])
        b = _linear(rgb[n, 2])
        fx = _f((m[0, 0] * r + m[0, 1] * g + m[0, 2] * b) / white[0])
        fy = _f((m[1, 0] * r + m[1, 1] * g + m[1, 2] * b) / white[1])
        fz = _f((m[2, 0] * r + m[2, 1] * g + m[2, 2] * b) / white[2])
        out[n, 0] = 116.0 * fy - 16.0
        out[n, 1] = 500.0 * (fx - fy)
        out[n, 2] = 200.0 * (fy - fz)


def srgb_to_lab(rgb):
    """CIELAB of encoded sRGB colours: rgb of shape (..., 3) in [0, 1] -> ndarray of the same shape."""
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f"colours must have 3 channels in their last axis, got shape {rgb.shape}")
    flat = np.ascontiguousarray(rgb.reshape(-1, 3))
    out = np.empty_like(flat)
    _srgb_to_lab(flat, XYZ_FROM_LINEAR_RGB, WHITE_D65, out)
    return out.reshape(rgb.shape)


def lab_to_srgb(lab):
    """Encoded sRGB in [0, 1] of CIELAB colours (..., 3); colours outside the sRGB gamut are clipped.

    Plain numpy: it converts centres (K colours), never a whole image.
    """
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    t = np.where(f > 6.0 / 29.0, f ** 3, (f - _OFFSET) / _SLOPE)
    linear = (t * WHITE_D65) @ LINEAR_RGB_FROM_XYZ.T
    linear = np.clip(linear, 0.0, 1.0)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1.0 / 2.4) - 0.055)
    return np.clip(encoded, 0.0, 1.0)
