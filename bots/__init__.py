"""The Telegram bot: account linking, the parents' commands, and the Telegram channel."""
