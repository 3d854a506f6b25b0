"""Training the learned recognisers (classification), as background-friendly functions."""
