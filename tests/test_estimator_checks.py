"""scikit-learn's estimator checks on NMF with every solver."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from nmfkit import NMF


@parametrize_with_checks(
    [
        NMF(solver="auto"),
        # scikit-learn's coordinate descent, stopped by its violation test: as
        # scikit-learn's own checks do (max_iter=500), since at the default
        # 200 fit_transform and transform stop at codes 0.04 apart, for
        # scikit-learn's NMF as for this one
        NMF(solver="cd", max_iter=500),
        NMF(solver="hals", inner_iter="auto", extrapolate=True),
        # The multiplicative updates converge slowly: with the default
        # tol/max_iter, fit_transform and fit().transform() stop at different
        # unconverged codes, which check_transformer_general compares.
        NMF(solver="mu", tol=1e-10, max_iter=5000),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
