"""Spreadsheets and GeoJSON in: reading, recognising columns, cleaning cells, validating
rows into organisations with a row-level report, the preview, background runs, the demo."""
