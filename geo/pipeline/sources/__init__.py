"""Readers, one per publisher format. Each returns tidy frames and never repairs silently."""
