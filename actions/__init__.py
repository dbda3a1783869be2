"""The action server (rasa-sdk 3.6, in .venv-rasa). Every fact comes from the REST API over HTTP;
nothing here imports the app."""
