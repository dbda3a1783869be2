"""The messaging side: channel adapters, the inbound pipeline, language detection, message
catalogs, and the Rasa assistant definition (bot/assistant)."""
