"""Helpers for tests, samples and benchmarks (ours and users'), kept out of the runtime modules.

Like ``numpy.testing``: nothing in ``mmretrieval`` imports this package; ``synth`` makes
footage whose spoken words, captions and scene times are known exactly.
"""
