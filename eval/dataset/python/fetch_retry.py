"""Fetch a URL with retries for the crawler."""

import time

import requests


def fetch(url: str, attempts: int = 3, backoff_s: float = 0.5) -> bytes:
    tried = 0
    while tried < attempts:
        try:
            response = requests.get(url, timeout=10)
            response.raise_for_status()
            return response.content
        except requests.RequestException:
            time.sleep(backoff_s * 2**tried)
    raise RuntimeError(f"giving up on {url} after {attempts} attempts")
