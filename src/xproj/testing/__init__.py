"""Tiny random models built locally for tests and benchmarks (no download): translation models
of every family, a question generator, a BERT encoder for SimAlign."""
