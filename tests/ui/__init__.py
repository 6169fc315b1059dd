"""UI tests: the Textual app driven by the pilot (on real servers or constructed snapshots) and
SVG snapshots (`__snapshots__/` sits next to the module that owns them, for syrupy)."""
