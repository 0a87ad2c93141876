"""Every public class, function and method has a complete numpydoc docstring.

The public names are those in the ``__all__`` of the public modules below,
with the public methods of the public classes (those defined in nmfkit, not
inherited from scikit-learn). Each is checked with
:func:`numpydoc.validate.validate` against the rules in ``RULES``, plus
three checks of this file:

- ``RAISES``: every exception class the body raises directly (``raise
  ValueError(...)``), and those listed in ``RAISES_THROUGH_HELPERS`` for the
  names that validate their input through a helper, appear in its Raises
  section;
- ``REFERENCES``: the names in ``REFERENCES`` (methods defined by a paper)
  have a References section;
- ``DOCTESTED``: the module that defines a name is collected for doctests
  (``DOCTEST_MODULES`` of the root ``conftest.py``, and the ``testpaths`` of
  ``pyproject.toml``), so its Examples run with the test suite.

Exemptions are explicit: ``EXEMPT`` maps a name to the rules it is exempt
from and why; ``PENDING`` lists the names whose docstrings are being edited
elsewhere (they are reported, not failed).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import textwrap
import warnings
from pathlib import Path

import pytest

numpydoc_validate = pytest.importorskip(
    "numpydoc.validate", reason="numpydoc (the docs and test extras) checks docstrings"
)
docscrape = pytest.importorskip("numpydoc.docscrape")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "nmfkit"

#: The public modules: those of the API reference (docs/api/index.rst), the
#: solvers, the applications and the command line.
MODULES = (
    "nmfkit",
    "nmfkit.solvers",
    "nmfkit.datasets",
    "nmfkit.recommend",
    "nmfkit.audio",
    "nmfkit.consensus",
    "nmfkit.topics",
    "nmfkit.plotting",
    "nmfkit.report",
    "nmfkit.distributed",
    "nmfkit.matching",
    "nmfkit.sparsity",
    "nmfkit.apps",
    "nmfkit.cli",
)

#: numpydoc's error codes that fail a public name, with what they require.
RULES = {
    "GL08": "a docstring",
    "SS01": "a summary line",
    "PR01": "every parameter of the signature documented in Parameters",
    "PR02": "no documented parameter that is not in the signature",
    "RT01": "a Returns section when something other than None is returned "
    "(a method returning self documents 'self : ClassName')",
    "YD01": "a Yields section for a generator",
    "SA01": "a See Also section",
    "EX01": "an Examples section (run as a doctest)",
}

#: Exceptions a name raises on bad input through a validation helper rather
#: than in its own body (read from the code), which its Raises section names.
RAISES_THROUGH_HELPERS: dict[str, tuple[str, ...]] = {
    "nmfkit.NMF.fit": ("ValueError",),
    "nmfkit.NMF.fit_transform": ("ValueError",),
    "nmfkit.NMF.transform": ("ValueError",),
    "nmfkit.NMF.score": ("ValueError",),
    "nmfkit.MiniBatchNMF.fit": ("ValueError",),
    "nmfkit.MiniBatchNMF.fit_transform": ("ValueError",),
    "nmfkit.MiniBatchNMF.partial_fit": ("ValueError",),
    "nmfkit.MiniBatchNMF.transform": ("ValueError",),
    "nmfkit.non_negative_factorization": ("ValueError",),
    "nmfkit.select_rank": ("ValueError",),
    "nmfkit.load": ("ModelFileError",),
    "nmfkit.report.format_number": ("ValueError",),
    "nmfkit.report.format_number_html": ("ValueError",),
}

#: Names that implement a method a paper defines: they cite it in References.
REFERENCES = frozenset(
    {
        "nmfkit.NMF",
        "nmfkit.MiniBatchNMF",
        "nmfkit.non_negative_factorization",
        "nmfkit.select_rank",
        "nmfkit.sparsity.hoyer_sparsity",
        "nmfkit.topics.coherence",
        "nmfkit.matching.match_components",
        "nmfkit.solvers.fit_hals",
        "nmfkit.solvers.fit_mu",
        "nmfkit.solvers.fit_mu_accelerated",
        "nmfkit.solvers.fit_mu_beta",
        "nmfkit.solvers.fit_masked_mu",
        "nmfkit.solvers.fit_masked_hals",
        "nmfkit.distributed.FrobeniusMURule",
        "nmfkit.distributed.BetaMURule",
        "nmfkit.distributed.HALSRule",
        "nmfkit.RatingsNMF",
        "nmfkit.audio.decompose_spectrogram",
        "nmfkit.audio.separate",
        "nmfkit.audio.wiener_masks",
        "nmfkit.audio.evaluate_separation",
    }
)

#: Name -> (rules it is exempt from, why).
EXEMPT: dict[str, tuple[frozenset[str], str]] = {}

#: A result class (a dataclass, or a NamedTuple) is read, not built by the
#: user: its fields may be documented under Attributes instead of Parameters.
RESULT_FIELDS_AS_ATTRIBUTES = True

#: Properties are documented like attributes: a summary line is enough.
PROPERTY_RULES = frozenset({"GL08", "SS01"})

_OTHER_BRANCH = "edited on another branch; integrator completes"
#: Files whose docstrings are edited on another branch; their public names
#: are reported (not failed) until the branches are merged.
PENDING_FILES: dict[str, str] = {}

#: Files whose public names are not documented to these rules yet (each
#: with its reason); reported, not failed.
NOT_YET_FILES: dict[str, str] = {}


def _defined_in_nmfkit(cls) -> bool:
    return cls.__module__.split(".")[0] == "nmfkit"


def _public_names() -> dict[str, object]:
    """Import path -> object, for every public class, function and method."""
    names: dict[str, object] = {}
    seen: set[int] = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants: documented by their ``#:`` comment
            if id(obj) in seen:
                continue  # re-exported (nmfkit.RatingsNMF is nmfkit.recommend's)
            seen.add(id(obj))
            path = f"{module_name}.{name}"
            names[path] = obj
            if inspect.isclass(obj):
                for klass in reversed(obj.__mro__):
                    if not _defined_in_nmfkit(klass):
                        continue
                    for attr, value in vars(klass).items():
                        if attr.startswith("_"):
                            continue
                        if isinstance(value, (classmethod, staticmethod)):
                            value = value.__func__
                        if inspect.isfunction(value) or isinstance(value, property):
                            names[f"{path}.{attr}"] = value
    return names


PUBLIC = _public_names()


def _source_file(obj) -> str:
    target = obj.fget if isinstance(obj, property) else obj
    target = inspect.unwrap(target)
    path = Path(inspect.getsourcefile(target)).resolve()
    if not path.is_relative_to(PACKAGE):
        return path.as_posix()  # outside the package (the self-check below)
    return path.relative_to(PACKAGE).as_posix()


def _listed(relative: str, files: dict[str, str]) -> str | None:
    for prefix, reason in files.items():
        if relative == prefix or relative.startswith(prefix):
            return reason
    return None


def _is_result_class(obj) -> bool:
    return inspect.isclass(obj) and (
        dataclasses.is_dataclass(obj) or hasattr(obj, "_fields")
    )


def _raised_directly(obj) -> set[str]:
    """Exception classes named in the ``raise`` statements of obj's own body."""
    if isinstance(obj, property) or inspect.isclass(obj):
        return set()
    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(obj))))
    raised = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id.endswith(("Error", "Exception")):
                raised.add(exc.id)
            elif isinstance(exc, ast.Attribute) and exc.attr.endswith("Error"):
                raised.add(exc.attr)
    return raised


def _doctest_entries() -> tuple[str, ...]:
    path = ROOT / "conftest.py"
    spec = importlib.util.spec_from_file_location("_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DOCTEST_MODULES


def _doctested(relative: str, entries) -> bool:
    return any(
        relative == entry or relative.startswith(entry + "/") for entry in entries
    )


def docstring_problems(name: str, obj) -> list[str]:
    """The rules ``name`` breaks, as ``"CODE: message"`` lines."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown section is a problem too
        try:
            report = numpydoc_validate.validate(name)
        except UserWarning as warning:
            return [f"PARSE: {warning}"]
    rules = PROPERTY_RULES if isinstance(obj, property) else frozenset(RULES)
    exempt = EXEMPT.get(name, (frozenset(), ""))[0]
    doc = docscrape.get_doc_object(obj)
    if RESULT_FIELDS_AS_ATTRIBUTES and _is_result_class(obj):
        fields = {item.name for item in doc["Attributes"]} | {
            part.strip() for item in doc["Parameters"] for part in item.name.split(",")
        }
        if set(inspect.signature(obj).parameters) <= fields:
            exempt = exempt | {"PR01"}
    problems = [
        f"{code}: {message}"
        for code, message in report["errors"]
        if code in rules and code not in exempt
    ]
    if isinstance(obj, property):
        return problems
    documented = {
        part.strip()
        for item in doc["Raises"]
        for part in (item.type or item.name).split(",")
    }
    required = _raised_directly(obj) | set(RAISES_THROUGH_HELPERS.get(name, ()))
    missing = sorted(required - documented)
    if missing and "RAISES" not in exempt:
        problems.append(f"RAISES: Raises does not name {', '.join(missing)}")
    if name in REFERENCES and not doc["References"]:
        problems.append("REFERENCES: no References section (a paper defines it)")
    relative = _source_file(obj)
    if doc["Examples"] and not _doctested(relative, _doctest_entries()):
        problems.append(
            f"DOCTESTED: src/nmfkit/{relative} is not in conftest.DOCTEST_MODULES"
        )
    return problems


def _skip_reason(obj) -> str | None:
    relative = _source_file(obj)
    return _listed(relative, PENDING_FILES) or _listed(relative, NOT_YET_FILES)


def test_public_names_are_found():
    # the enumeration itself: classes, functions and methods of every module
    assert "nmfkit.NMF" in PUBLIC
    assert "nmfkit.NMF.fit_transform" in PUBLIC
    assert "nmfkit.NMF.inverse_transform" in PUBLIC  # from nmfkit's base class
    assert "nmfkit.NMF.get_params" not in PUBLIC  # scikit-learn's, not ours
    assert "nmfkit.solvers.fit_hals" in PUBLIC
    assert len(PUBLIC) > 150


def test_rules_detect_a_bare_docstring():
    # the checks fail a function that lacks the sections
    def bare(x):
        """Do something."""
        if x is None:
            raise ValueError("x is None")
        return x

    module = inspect.getmodule(bare)
    bare.__qualname__ = "bare"
    module.bare = bare
    try:
        problems = docstring_problems(f"{__name__}.bare", bare)
    finally:
        delattr(module, "bare")
    codes = {problem.split(":")[0] for problem in problems}
    assert {"PR01", "RT01", "SA01", "EX01", "RAISES"} <= codes


def test_exemptions_name_public_names():
    for name in (*EXEMPT, *RAISES_THROUGH_HELPERS, *REFERENCES):
        assert name in PUBLIC, f"{name} is not a public name"


def test_doctest_modules_are_test_paths():
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject needs 3.11")
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"
    ]["testpaths"]
    for entry in _doctest_entries():
        assert f"src/nmfkit/{entry}" in testpaths, entry


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring(name):
    obj = PUBLIC[name]
    problems = docstring_problems(name, obj)
    reason = _skip_reason(obj)
    if reason is not None:
        if problems:
            pytest.skip(f"{reason}: {'; '.join(problems)}")
        return
    assert not problems, f"{name}:\n" + "\n".join(problems)
