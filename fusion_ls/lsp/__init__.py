"""The pygls adapter: LSP requests in, engine calls, diagnostics/hovers/code actions out."""
