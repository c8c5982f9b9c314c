"""Repository-wide pytest settings."""

import os


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
