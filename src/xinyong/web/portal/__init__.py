"""The public portal: server-rendered pages (views.py) in Chinese and English (i18n.py)."""
