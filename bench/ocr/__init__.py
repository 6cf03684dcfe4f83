"""OCR benchmark: TesseractReader against plain tesseract (see README.md)."""
