"""The campaign domain: volunteers, identities, consent, teams and turf, shifts, assignment,
handoffs, the message log and the outbox. Models and rules live here; `api/` and `bot/` use
this package, and it imports neither."""
