"""Portside's Qt desktop application (PySide6 on the qasync event loop)."""
