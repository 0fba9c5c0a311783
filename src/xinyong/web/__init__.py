"""The web front: JSON API (api/), public portal (portal/), operators' console (console/)."""
