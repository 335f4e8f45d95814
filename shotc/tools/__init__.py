"""Writer tools: fmt (formatter), decompile (decompiler) and importers."""
