"""Where studies live: storage URLs, records, journal repair, redaction, retries."""
