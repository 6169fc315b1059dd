"""The dashboard's actions as commands for scripts and runbooks: `streamtop trim`, `claim`, `ack`,
`deadletter`, `redrive`, `group`. Each calls the same `Actions` method as its key (no second
implementation); `shared.py` holds what they share: --dry-run, --json, --yes, exit codes."""
