"""scikit-learn's estimator checks on nmfkit's estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from nmfkit import NMF


@parametrize_with_checks([NMF(max_iter=5000, tol=1e-10)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
