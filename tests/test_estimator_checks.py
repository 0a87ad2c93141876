"""scikit-learn's estimator checks on NMF with every solver."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from nmfkit import NMF


@parametrize_with_checks(
    [
        NMF(solver="auto"),
        NMF(solver="cd"),
        NMF(solver="hals", inner_iter="auto", extrapolate=True),
        # The multiplicative updates converge slowly: with the default
        # tol/max_iter, fit_transform and fit().transform() stop at different
        # unconverged codes, which check_transformer_general compares.
        NMF(solver="mu", tol=1e-10, max_iter=5000),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
