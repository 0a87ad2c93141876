from __future__ import annotations

import pytest

from nmfkit._optional import MissingDependencyError, import_optional


def test_missing_package_names_the_extra_and_the_pip_command():
    with pytest.raises(MissingDependencyError) as info:
        import_optional("PIL_not_installed_here.Image", purpose="reading images")
    message = str(info.value)
    assert "reading images needs the package 'PIL_not_installed_here'" in message
    assert 'pip install "nmfkit[apps]"' in message
    assert isinstance(info.value, ImportError)


def test_present_package_is_returned():
    assert import_optional("json", purpose="x").dumps([1]) == "[1]"
