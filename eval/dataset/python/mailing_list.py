"""Merge e-mail lists from several CRM exports."""


def merge_lists(*exports: list[str]) -> list[str]:
    merged: list[str] = []
    for export in exports:
        for address in export:
            address = address.strip().lower()
            if address not in merged:
                merged.append(address)
    return merged
