"""Server-enforced safety for write tools: allow-lists, confirmation, anti-ban pacing and the audit log.

Each rule is one pipeline step (`guards.GUARDS`, placed in the pipeline's guard slot), driven by the
tool's registry policy (`Effect` → confirm/audit flags, `pacing=` class), never by code in the tools.
"""

# The argument a tool needing confirmation takes (added by the registry, consumed by the confirmation guard).
CONFIRM_ARGUMENT = "confirm"
