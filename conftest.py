"""Repository-wide pytest settings."""

import os

# Under pytest-xdist (scripts/test.sh runs a worker a core) each worker, and every command it starts, computes on
# its share of the cores: XLA's and TensorFlow's thread pools each sized to the whole machine would contend.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _threads = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    for _name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_name, str(_threads))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1" if _threads == 1 else "2")
    if _threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1").strip()


def pytest_collection_modifyitems(config, items):
    # Tests marked backend_independent (builder, audio, CLI parsing, metrics) exercise no Keras backend:
    # `scripts/test.sh` runs the suite once per backend, and these run in the JAX pass only.
    if os.environ.get("KERAS_BACKEND", "jax") != "jax":
        independent = [i for i in items if i.get_closest_marker("backend_independent")]
        if independent:
            config.hook.pytest_deselected(items=independent)
            items[:] = [i for i in items if not i.get_closest_marker("backend_independent")]

    # needs_root: a real small filesystem is mounted in the test (tests/flows/full_disk_test.py); CI runs as root.
    if os.geteuid() != 0:
        rooted = [i for i in items if i.get_closest_marker("needs_root")]
        if rooted:
            config.hook.pytest_deselected(items=rooted)
            items[:] = [i for i in items if not i.get_closest_marker("needs_root")]
            print(f"\nnot running {len(rooted)} test(s) marked needs_root (they mount a tmpfs): run the suite as root")

    # tf.test.TestCase (under tfds' DatasetBuilderTestCase) has a helper named test_session that
    # unittest collection picks up as a test and TensorFlow then skips: it is not a test of ours.
    kept = [i for i in items if i.name != "test_session"]
    dropped = [i for i in items if i.name == "test_session"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
