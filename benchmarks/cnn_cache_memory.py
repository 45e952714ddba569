"""How much memory does the CNN's cache of trained networks (``genre.classifiers.cnn._FITTED``) hold?

``cnn``, ``cnn-svm`` and ``cnn-xgboost`` in one benchmark share each split's network through a
process-wide cache of up to 64 networks. This builds the default network (10 classes),
stores ``--copies`` copies of it as the cache does (``copy_network``), and prints the growth
of the process's peak resident memory per copy, and for a full cache.

Usage::

    python benchmarks/cnn_cache_memory.py [--copies 32]
"""

from __future__ import annotations

import argparse
import resource


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=32)
    args = parser.parse_args(argv)

    from genre.classifiers.cnn import _FITTED, MelCNNClassifier
    from genre.classifiers.keras_training import copy_network

    network = MelCNNClassifier()._build_network(10)
    copy_network(network)  # the first copy pays for TensorFlow's own set-up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    copies = [copy_network(network) for _ in range(args.copies)]
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    per_copy = (after - before) / 1024 / len(copies)
    print(f"default CNN: {network.count_params()} parameters")
    print(f"{per_copy:.2f} MiB of peak RSS per cached copy ({len(copies)} copies)")
    print(f"a full cache of {_FITTED.size}: about {per_copy * _FITTED.size:.0f} MiB")


if __name__ == "__main__":
    main()
