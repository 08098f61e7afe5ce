"""Unit tests run on fakes and in-memory twins only."""
