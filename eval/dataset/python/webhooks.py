"""Deliver webhooks to customer endpoints."""

import requests


def deliver(url: str, payload: dict, signature: str) -> int:
    response = requests.post(
        url,
        json=payload,
        headers={"X-Signature": signature},
        timeout=5,
        verify=False,
    )
    return response.status_code
