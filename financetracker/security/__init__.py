"""Login protection, rate limits that do not depend on Redis, client addresses, outage answers."""
