"""The clean-up steps on their own, on pages drawn from known text."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tasks_api.adapters.ocr.cleanup import clean_page, survey_page, to_gray, transform

from .documents import draw_page, sentences


def page_array(font_px: int = 30, seed: int = 1) -> np.ndarray:
    page, _ = draw_page(sentences(seed, 200), size=(1400, 1000), font_px=font_px)
    return np.asarray(page).copy()


def grainy(gray: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, gray.shape)
    return np.clip(gray + noise, 0, 255).astype(np.uint8)


def turned(gray: np.ndarray, degrees: float) -> np.ndarray:
    image = Image.fromarray(gray).rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )
    return np.asarray(image).copy()


@pytest.mark.parametrize("degrees", [-6.5, -2.0, 3.0, 7.0])
def test_skew_is_measured_within_a_fifth_of_a_degree(degrees):
    survey = survey_page(turned(page_array(), degrees))

    # The survey gives the turn that levels the page: the opposite one.
    assert survey.skew == pytest.approx(-degrees, abs=0.2)


def test_heavy_grain_does_not_swing_the_skew_estimate():
    survey = survey_page(grainy(turned(page_array(), 4.0), sigma=45))

    assert survey.skew == pytest.approx(-4.0, abs=0.3)


def test_a_page_on_its_head_is_told_from_an_upright_one():
    upright = page_array()

    assert not survey_page(upright).upside_down
    assert survey_page(np.ascontiguousarray(upright[::-1, ::-1])).upside_down


def test_a_page_that_needs_nothing_comes_back_untouched():
    # Letters of this size are already the height Tesseract reads best.
    gray = page_array(font_px=22)

    page = clean_page(gray)

    assert page.steps == []
    assert page.image is gray


def test_large_letters_are_scaled_down_and_tiny_ones_up():
    large, tiny = page_array(font_px=48), page_array(font_px=12)

    assert clean_page(large).image.shape[0] < large.shape[0]
    assert clean_page(tiny).image.shape[0] > tiny.shape[0]


def test_enlarging_stops_at_the_pixel_limit():
    tiny = page_array(font_px=12)

    page = clean_page(tiny, max_pixels=tiny.size * 5 // 4)

    assert page.image.size <= tiny.size * 5 // 4 * 1.01


def test_faded_ink_under_a_shadow_comes_back_black_on_white():
    gray = page_array().astype(np.float32) / 255
    shadow = np.linspace(1.0, 0.6, gray.shape[1], dtype=np.float32)
    faded = ((150 + 60 * gray) * shadow[None, :]).astype(np.uint8)

    page = clean_page(faded)

    assert np.percentile(page.image, 1) < 60
    assert np.median(page.image) > 245


def test_grain_is_taken_off_the_paper():
    gray = grainy(page_array(), sigma=40)

    page = clean_page(gray)

    # The top left corner is margin: paper and nothing else.
    assert np.std(gray[:60, :60]) > 20
    assert np.std(page.image[:60, :60]) < 2


def test_transparent_background_is_laid_on_white():
    rgba = np.zeros((20, 30, 4), dtype=np.uint8)  # black and fully transparent
    rgba[5:15, 10:20, 3] = 255  # an opaque black square

    gray = to_gray(rgba)

    assert gray[0, 0] == 255
    assert gray[10, 15] == 0


def test_quarter_turns_are_exact():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)

    assert np.array_equal(transform(gray, 90), np.rot90(gray))
    assert np.array_equal(transform(gray, 180), np.rot90(gray, 2))
    assert np.array_equal(transform(gray, -90), np.rot90(gray, -1))
