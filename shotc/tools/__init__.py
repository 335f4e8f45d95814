"""Writer tools that are not the compiler: importers from other formats."""
