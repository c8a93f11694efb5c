import os

import numpy as np
import pytest
from hypothesis import settings

import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# recent files (QSettings) and recovery copies go to a throw-away place, never the user's
_SANDBOX = tempfile.mkdtemp(prefix="clusterlab-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SANDBOX, "config")
os.environ["CLUSTERLAB_DATA_DIR"] = os.path.join(_SANDBOX, "data")

# numba compiles on first call; a deadline would flake on that, not on speed.
settings.register_profile("clusterlab", deadline=None, max_examples=60)
settings.load_profile("clusterlab")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def three_blobs(rng):
    means = np.array([[-4.0, -2.0], [4.0, -2.0], [0.0, 4.0]])
    X = np.vstack([m + rng.normal(size=(120, 2)) for m in means])
    return rng.permutation(X)
