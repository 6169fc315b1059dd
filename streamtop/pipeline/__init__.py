"""The poll pipeline, headless: connection and server capabilities, collector and cluster, parse
into the model's snapshot, history and rates, health and liveness verdicts, the cadence budget,
decoders, and the one safe text form of what the server says (render)."""
