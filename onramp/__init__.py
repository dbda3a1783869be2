"""Onramp: the composition root — settings shared by every process, and the `onramp` command."""
