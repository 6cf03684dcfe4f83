"""Page clean-up before Tesseract, with OpenCV.

A page is first surveyed on a copy about 1,000 pixels wide: how even its
paper is, how noisy, how big its letters, how skewed its lines. Only the
steps the survey calls for then run on the full page, so a page that
needs nothing comes back untouched. The steps, in order:

1. background flattening: shadows and uneven light divided away;
2. speckle removal with a 3x3 median, once or twice by noise level;
3. level stretching: evenly faded ink made black, grainy paper white;
4. one geometric pass that scales the letters towards the height
   Tesseract reads best, turns the lines level (projection profile) and
   turns the page right way up when it plainly stands upside down.

The page stays grayscale: Tesseract's own thresholding of a clean gray
page reads as well as binarizing here, and better on blurred pages.
A page that is mostly dark is inverted first, as light letters on dark
paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

_SURVEY_WIDTH = 1000
# Paper whose background varies more than this, or is darker, is flattened.
_MAX_PAPER_SPREAD = 12
_MIN_PAPER_LEVEL = 225
# Noise (median deviation from a 3x3 median) at which to filter once, twice.
_NOISE_ONCE, _NOISE_TWICE = 2, 6
# Ink whose darkest is lighter than this, and evenly so (its median within
# _EVEN_INK of its darkest), is faded and stretched to black. Blurred ink
# is uneven, dark at the heart of a stroke: stretching it lost letters.
_DARK_ENOUGH, _EVEN_INK = 40, 25
# Grainy paper whose lightest 95% is darker than this is stretched white.
_LIGHT_ENOUGH = 235
# Letters are scaled towards this median blob height, within these factors,
# unless the factor would fall within the band that is not worth a pass.
TARGET_LETTER_HEIGHT = 13.0
_MIN_FACTOR, _MAX_FACTOR = 0.6, 2.0
_KEEP_FACTORS = (0.85, 1.2)
# Skew below this many degrees is left; the search spans +-_MAX_SKEW.
_MIN_SKEW = 0.25
_MAX_SKEW = 15.0
_SKEW_POINTS = 60_000
# Blobs smaller than this (survey pixels) are specks, not letters.
_MIN_BLOT_AREA = 4
# A page stands upside down when this much more ink hangs below its lines'
# small-letter band than rises above it, over at least _MIN_LINES lines.
# Measured on upright pages: 0.3-0.8; turned over: 1.5-3.9.
_UPSIDE_DOWN_RATIO = 1.3
_MIN_LINES = 5


@dataclass(frozen=True)
class Survey:
    """What a page needs, measured on a small copy of it."""

    background: np.ndarray | None  # the paper to divide out, if uneven
    noise: float
    letter_height: float | None  # median height of letter blobs, full size
    skew: float  # degrees to turn counter-clockwise to level the lines
    upside_down: bool

    @property
    def factor(self) -> float:
        """The scale that brings letters to the height Tesseract reads best."""
        if self.letter_height is None:
            return 1.0
        factor = TARGET_LETTER_HEIGHT / self.letter_height
        factor = min(_MAX_FACTOR, max(_MIN_FACTOR, factor))
        low, high = _KEEP_FACTORS
        return 1.0 if low <= factor <= high else factor


@dataclass
class CleanPage:
    """A page ready for Tesseract and the steps that made it so."""

    image: np.ndarray
    steps: list[str] = field(default_factory=list)
    turned_over: bool = False  # stood on its head by the survey's verdict


def to_gray(image: np.ndarray) -> np.ndarray:
    """An 8-bit grayscale copy of a decoded image of any depth or channels.

    Transparent pixels are laid on white, since text on a transparent
    background is most often dark on what a viewer shows as white.
    """
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX, cv2.CV_8U)

    if image.ndim == 2:
        return image
    channels = image.shape[2]
    if channels == 1:
        return image[:, :, 0]
    if channels == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        color = image[:, :, :3].astype(np.float32)
        image = (color * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def clean_page(
    gray: np.ndarray, max_pixels: int | None = None, may_turn_over: bool = True
) -> CleanPage:
    """Clean a grayscale page for Tesseract, doing only what it needs.

    Small text is not enlarged past ``max_pixels``. With ``may_turn_over``
    false the page keeps the way up it came in, whatever the survey says.
    """
    page = CleanPage(gray)
    if np.median(gray[::16, ::16]) < 128:
        # Light letters on a dark page: Tesseract is told not to look for
        # inverted text (see engine.py), so the page is inverted here.
        gray = page.image = cv2.bitwise_not(gray)
        page.steps.append("invert")
    survey = survey_page(gray)

    if survey.background is not None:
        background = cv2.resize(
            survey.background,
            (gray.shape[1], gray.shape[0]),
            interpolation=cv2.INTER_LINEAR,
        )
        page.image = cv2.divide(page.image, np.maximum(background, 1), scale=255)
        page.steps.append("flatten")

    if survey.noise >= _NOISE_ONCE:
        page.image = cv2.medianBlur(page.image, 3)
        if survey.noise >= _NOISE_TWICE:
            page.image = cv2.medianBlur(page.image, 3)
        page.steps.append(f"despeckle({survey.noise:.0f})")

    black, white = _stretch_points(page.image, grainy=survey.noise >= _NOISE_ONCE)
    if black > 0 or white < 255:
        span = max(1, white - black)
        lut = np.clip((np.arange(256) - black) * 255.0 / span, 0, 255)
        page.image = cv2.LUT(page.image, lut.astype(np.uint8))
        page.steps.append(f"stretch({black},{white})")

    factor, angle = survey.factor, survey.skew
    if max_pixels and factor > 1.0:
        factor = max(1.0, min(factor, (max_pixels / gray.size) ** 0.5))
    if abs(angle) < _MIN_SKEW:
        angle = 0.0
    if survey.upside_down and may_turn_over:
        angle += 180.0
        page.turned_over = True
    if factor != 1.0 or angle:
        page.image = transform(page.image, angle, factor)
        page.steps.append(f"scale({factor:.2f}),turn({angle:.2f})")
    return page


def survey_page(gray: np.ndarray) -> Survey:
    """Measure, on a small copy, what ``gray`` needs before Tesseract."""
    scale = min(1.0, _SURVEY_WIDTH / gray.shape[1])
    small = gray
    if scale < 1.0:
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)

    background = _background(small, scale)
    if background is not None:
        small = cv2.divide(small, np.maximum(background, 1), scale=255)

    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    height = _letter_height(stats)
    # Specks say nothing about lines; measure them without.
    blots = stats[:, cv2.CC_STAT_AREA] >= _MIN_BLOT_AREA
    blots[0] = False
    ys, xs = _ink_points(blots[labels])
    skew = skew_angle(ys, xs)
    return Survey(
        background=background,
        noise=_noise_level(gray),
        letter_height=None if height is None else height / scale,
        skew=skew,
        upside_down=looks_upside_down(ys, xs, skew),
    )


def _background(small: np.ndarray, scale: float) -> np.ndarray | None:
    """The paper alone, if it is unevenly lit or grey; None if even."""
    # A grayscale closing wipes out dark strokes narrower than its kernel
    # and leaves the paper; the median smooths what text remains.
    size = max(15, int(60 * scale)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.medianBlur(background, min(size, 31) | 1)

    low, high = np.percentile(background, (2, 98))
    if high - low > _MAX_PAPER_SPREAD or high < _MIN_PAPER_LEVEL:
        return background
    return None


def _noise_level(gray: np.ndarray) -> float:
    """Robust noise estimate: the median deviation from a 3x3 median."""
    rows = gray[:: max(1, gray.shape[0] // 400)]
    residual = cv2.absdiff(rows, cv2.medianBlur(rows, 3))
    return float(np.median(residual))


def _stretch_points(gray: np.ndarray, grainy: bool) -> tuple[int, int]:
    """The gray levels to make black and white, judged from a sample."""
    step = max(1, gray.shape[0] // 600), max(1, gray.shape[1] // 600)
    sample = np.ascontiguousarray(gray[:: step[0], :: step[1]])
    threshold, _ = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = sample[sample < threshold]
    paper = sample[sample >= threshold]
    if ink.size < 50 or paper.size < 50:
        return 0, 255

    black, white = 0, 255
    darkest, middle = np.percentile(ink, (5, 50))
    if darkest > _DARK_ENOUGH and middle - darkest < _EVEN_INK:
        black = int(darkest)
    lightest = np.percentile(paper, 5)
    if grainy and lightest < _LIGHT_ENOUGH:
        white = int(lightest)
    return black, white


def _letter_height(stats: np.ndarray) -> float | None:
    """The median height of letter-sized blobs, from their statistics."""
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    letters = heights[(heights >= 3) & (heights <= 100) & (widths <= 4 * heights)]
    if letters.size < 20:
        return None
    return float(np.median(letters))


def _ink_points(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and centred column of (at most _SKEW_POINTS) pixels of a mask."""
    ys, xs = np.nonzero(ink)
    step = ys.size // _SKEW_POINTS + 1
    ys, xs = ys[::step], xs[::step]
    return ys.astype(np.float32), xs.astype(np.float32) - ink.shape[1] / 2


def _row_profile(ys: np.ndarray, xs: np.ndarray, angle: float) -> np.ndarray:
    """How much ink lies on each row once the page is turned by ``angle``."""
    shifted = ys - xs * np.float32(np.tan(np.radians(angle)))
    return np.bincount((shifted - shifted.min()).astype(np.int32))


def skew_angle(ys: np.ndarray, xs: np.ndarray) -> float:
    """The angle, in degrees, by which lines of ink points are turned.

    Projection profile: ink is projected onto the vertical axis at each
    candidate angle, and the angle at which the profile is sharpest (its
    sum of squares largest) is the one that lines the text up. Stray
    noise adds an even floor to every profile and so moves nothing,
    where a rectangle fitted around the ink swings with every speck.
    """
    if ys.size < 500:
        return 0.0

    def sharpness(angle: float) -> float:
        rows = _row_profile(ys, xs, angle)
        return float(np.dot(rows, rows))

    best = 0.0
    for span, step in ((_MAX_SKEW, 1.0), (1.0, 0.2), (0.2, 0.05)):
        candidates = np.arange(best - span, best + span + step / 2, step)
        best = float(max(candidates, key=sharpness))
    return best


def looks_upside_down(ys: np.ndarray, xs: np.ndarray, skew: float) -> bool:
    """Whether lines of ink points turned ``skew`` stand on their heads.

    In Latin script far more ink rises above the band of the small
    letters (capitals, digits, b d f h k l t) than hangs below it
    (g j p q y). Each line's band is where its row profile is at least
    half its peak. Only a clear majority below counts, so pages in other
    scripts, all capitals or too few lines are left as they are; the
    reader's orientation check catches what this misses.
    """
    if ys.size < 500:
        return False
    profile = _row_profile(ys, xs, skew).astype(np.float64)
    inked = profile > 0.02 * profile.max()

    above = below = 0.0
    lines = 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked, [0])).astype(np.int8)))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        line = profile[start:end]
        if line.size < 4:
            continue
        band = np.flatnonzero(line >= 0.5 * line.max())
        above += line[: band[0]].sum()
        below += line[band[-1] + 1 :].sum()
        lines += 1
    return lines >= _MIN_LINES and below > _UPSIDE_DOWN_RATIO * max(above, 1.0)


def transform(gray: np.ndarray, degrees: float, factor: float = 1.0) -> np.ndarray:
    """``gray`` scaled by ``factor`` and turned counter-clockwise on white.

    The canvas grows to keep the corners. Multiples of 90 degrees at
    scale 1 are turned exactly, without resampling.
    """
    quarter_turns = {
        90: cv2.ROTATE_90_COUNTERCLOCKWISE,
        180: cv2.ROTATE_180,
        270: cv2.ROTATE_90_CLOCKWISE,
    }
    whole = degrees % 360
    if factor == 1.0 and not whole:
        return gray
    if factor == 1.0 and whole in quarter_turns:
        return cv2.rotate(gray, quarter_turns[int(whole)])
    if not whole:
        method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=method)

    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, factor)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_width = int(height * sin + width * cos)
    new_height = int(height * cos + width * sin)
    matrix[0, 2] += new_width / 2 - width / 2
    matrix[1, 2] += new_height / 2 - height / 2
    return cv2.warpAffine(
        gray,
        matrix,
        (new_width, new_height),
        flags=cv2.INTER_LINEAR,
        borderValue=255,
    )
