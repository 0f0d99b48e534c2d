"""One review or explanation: scope → redact → prompt → reviewers → fuse → anchor → postprocess.

Never imports pygls or lsprotocol: the adapters (`cli`, `lsp`) render what the engine emits.
"""
