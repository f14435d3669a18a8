"""Carteras: CSV/XLSX import, phone normalization, the pool and exclusive self-assignment."""
