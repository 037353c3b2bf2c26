"""The public surface: what is exported, how it is documented, and what importing costs."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import lambdaclient
import lambdaclient.errors
from lambdaclient import LambdaClient


def test_all_is_sorted_and_complete() -> None:
    for module in (lambdaclient, lambdaclient.errors):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), name


def test_every_public_name_has_a_docstring() -> None:
    for name in lambdaclient.__all__:
        obj = getattr(lambdaclient, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name
    for name, method in inspect.getmembers(LambdaClient, inspect.isfunction):
        if not name.startswith("_"):
            assert inspect.getdoc(method), name


def test_every_error_is_in_the_documented_tree() -> None:
    tree = lambdaclient.errors.__doc__ or ""
    for name in lambdaclient.errors.__all__:
        error = getattr(lambdaclient.errors, name)
        assert issubclass(error, lambdaclient.LambdaError)
        assert re.search(rf"\b{name}\b", tree), f"{name} is missing from the drawn tree"


def test_operation_arguments_are_positional_or_keyword_then_keyword_only() -> None:
    function_only = {"list_aliases", "invoke", "invoke_stream", "invoke_with_response_stream"}
    alias_operations = {"create_alias", "get_alias", "update_alias", "delete_alias"}
    for name in sorted(function_only | alias_operations):
        parameters = list(inspect.signature(getattr(LambdaClient, name)).parameters.values())[1:]
        positional = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
        rest = {p.kind for p in parameters if p.kind is not p.POSITIONAL_OR_KEYWORD}
        expected = ["function_name"] if name in function_only else ["function_name", "name"]
        assert positional == expected, name
        assert rest <= {inspect.Parameter.KEYWORD_ONLY}, name


def test_importing_with_environment_credentials_does_not_import_botocore() -> None:
    code = (
        "import sys, asyncio, lambdaclient\n"
        "c = lambdaclient.LambdaClient('us-east-1')\n"
        "creds = asyncio.run(c._credentials.get())\n"
        "assert creds.access_key_id == 'AKIDEXAMPLE'\n"
        "print('botocore' in sys.modules)\n"
    )
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
