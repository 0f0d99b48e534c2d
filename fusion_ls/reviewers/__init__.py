"""Who reviews: chat models over OpenAI-compatible HTTP and local analyzers, one protocol."""
