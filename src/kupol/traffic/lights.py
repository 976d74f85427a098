"""Reading a traffic light's phase from its region of the frame, for signals whose controller
does not report: the lit lamps are the bright, saturated pixels, and their hue says which.

Example:
    >>> import numpy as np, cv2
    >>> head = np.zeros((90, 30, 3), np.uint8)
    >>> _ = cv2.circle(head, (15, 15), 10, (40, 40, 255), -1)   # the red lamp, lit (BGR)
    >>> read_phase(head)
    'red'
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

MIN_LIT = 0.02
"""Least share of the region's pixels one lamp must light to count."""


def read_phase(region: NDArray[np.uint8]) -> str | None:
    """``red``, ``red_amber``, ``amber`` or ``green`` from a BGR crop of a signal head;
    ``None`` when no lamp is clearly lit (night glare, a dark frame, the lamps' change)."""
    if region.size == 0:
        return None
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    lit = (sat >= 100) & (val >= 150)
    total = float(hue.size)
    red = float(np.count_nonzero(lit & ((hue <= 8) | (hue >= 170)))) / total
    amber = float(np.count_nonzero(lit & (hue >= 12) & (hue <= 32))) / total
    green = float(np.count_nonzero(lit & (hue >= 40) & (hue <= 95))) / total
    if red >= MIN_LIT and amber >= MIN_LIT:
        return "red_amber"
    shares = {"red": red, "amber": amber, "green": green}
    best = max(shares, key=lambda k: shares[k])
    return best if shares[best] >= MIN_LIT else None
