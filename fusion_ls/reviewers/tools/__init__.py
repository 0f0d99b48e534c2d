"""Local analyzers as pool members (`tool:NAME`), one small module each."""
