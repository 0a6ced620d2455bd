"""German. Same keys as the English catalog; a missing key falls back to English."""

MESSAGES: dict[str, str] = {}
