"""Churn-retention workbench core: who is about to leave, why, what it costs, what to offer.

Importable and fully usable without Streamlit; the pages in ``app_pages/`` are a window onto it.
"""
__version__ = "0.1.0"
