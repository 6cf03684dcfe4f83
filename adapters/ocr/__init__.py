"""OCR adapters: Tesseract with OpenCV clean-up and PDF pages."""
