"""The inbound pipeline, one message at a time (see ARCHITECTURE.md, "The inbound pipeline"):

1. verify      - the channel adapter (bot/channels) checks the provider's signature
2. receive     - persist keyed by the provider's id, then acknowledge       (receive.py)
3. run         - process in order per contact, from the stored row           (runner.py)
4. compliance  - STOP / START / HELP before any model                        (process.py)
5. identify    - (channel, external id) -> volunteer                         (receive.py)
6. language    - stored choice, else detection                               (process.py)
7. route       - an open handoff keeps the bot out; otherwise Rasa            (process.py)
8. reply       - Rasa's message keys become outbox rows                      (replies.py)
"""
