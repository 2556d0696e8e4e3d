"""The regulation as pure Python (no Django imports), so it can be tested exhaustively."""
