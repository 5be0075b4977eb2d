"""Search spaces: the validated spec, the ready-space catalogue, suggestions, overrides."""
