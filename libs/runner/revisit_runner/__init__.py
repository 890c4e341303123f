"""The composition root: which services exist, and how each mode runs them."""
