"""The language server (`shotc lsp`): the compiler's diagnostics, completion, hover, go to
definition, outline, folding, formatting and quick fixes, spoken over LSP on stdio.

`analysis.py` reads a document once per version (AST, diagnostics, the elements of its
includes); `features.py` answers requests from that analysis as plain functions;
`positions.py` converts between the compiler's (line, code-point column) and LSP positions;
`server.py` is the pygls wiring. pygls is imported only by `server.py`.
"""
