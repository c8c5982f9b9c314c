"""Repository-wide pytest settings."""


def pytest_collection_modifyitems(config, items):
    # tf.test.TestCase (under tfds' DatasetBuilderTestCase) has a helper named test_session that
    # unittest collection picks up as a test and TensorFlow then skips: it is not a test of ours.
    kept = [i for i in items if i.name != "test_session"]
    dropped = [i for i in items if i.name == "test_session"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
