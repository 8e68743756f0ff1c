"""Peer implementations run side by side with ours on the same input."""
