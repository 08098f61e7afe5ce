"""Catalog unit tests (a package, so "catalog" never resolves to a namespace package of test folders)."""
