"""The worker process: sends the outbox (replies, reminders, notifications, broadcasts)."""
