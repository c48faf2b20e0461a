"""The agent's terminal inbox (Textual): screens, widgets and the live change feed."""
