"""User config + `.fusion.toml` → validated `Settings`; trust; where files live; messages."""
