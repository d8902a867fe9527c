"""WAHA areas emulated by the sandbox: one module per area, each imported automatically."""
