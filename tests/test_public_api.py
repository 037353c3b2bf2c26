"""The public surface: what is exported, how it is documented, and what importing costs."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import lambdaclient
import lambdaclient.cloudwatch
import lambdaclient.errors
import lambdaclient.pagination
import lambdaclient.testing
import lambdaclient.transport
from lambdaclient import Credentials, LambdaClient
from lambdaclient.testing import LambdaContext, LocalLambda

ROOT = Path(__file__).resolve().parent.parent


def test_all_is_sorted_and_complete() -> None:
    modules = (
        lambdaclient,
        lambdaclient.errors,
        lambdaclient.pagination,
        lambdaclient.testing,
        lambdaclient.transport,
        lambdaclient.cloudwatch,
    )
    for module in modules:
        for name in module.__all__:
            assert hasattr(module, name), name
    for module in modules[1:]:
        assert module.__all__ == sorted(module.__all__)
    # lambdaclient's own names, then the errors' (which are listed once, in lambdaclient.errors).
    own = lambdaclient.__all__[: -len(lambdaclient.errors.__all__)]
    assert own == sorted(own)
    assert lambdaclient.__all__[len(own) :] == lambdaclient.errors.__all__


def test_every_public_name_has_a_docstring() -> None:
    modules = (
        lambdaclient,
        lambdaclient.cloudwatch,
        lambdaclient.pagination,
        lambdaclient.testing,
        lambdaclient.transport,
    )
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert inspect.getdoc(obj), name
    for client in (LambdaClient, lambdaclient.cloudwatch.CloudWatchClient):
        for name, method in inspect.getmembers(client, inspect.isfunction):
            if not name.startswith("_"):
                assert inspect.getdoc(method), name


def test_a_clients_arguments_are_typed_with_names_a_caller_can_import() -> None:
    public = {*lambdaclient.__all__, *lambdaclient.transport.__all__}
    foreign = {"None", "bool", "int", "float", "str", "Callable", "Awaitable", "datetime"}
    foreign |= {"aiohttp.ClientSession", "TracerProvider"}
    for client in (LambdaClient, lambdaclient.cloudwatch.CloudWatchClient):
        for parameter in inspect.signature(client).parameters.values():
            for name in re.findall(r"[A-Za-z_][\w.]*", str(parameter.annotation)):
                assert name in public | foreign, (client.__name__, parameter.name, name)


async def test_list_operations_return_types_named_by_a_public_module() -> None:
    client = LambdaClient("us-east-1", credentials=Credentials("AKID", "secret"))
    paginators: list[tuple[type, object]] = [
        (lambdaclient.AliasPaginator, client.list_aliases("my-fn")),
        (lambdaclient.VersionPaginator, client.list_versions_by_function("my-fn")),
    ]
    for paginator, returned in paginators:
        assert type(returned) is paginator
        assert paginator.__module__ == "lambdaclient.pagination"
        assert getattr(lambdaclient.pagination, paginator.__name__) is paginator
    await client.close()


async def test_a_handler_receives_the_exported_context_type() -> None:
    def handler(event: Any, context: LambdaContext) -> Any:
        return [type(context) is LambdaContext, context.function_name, event]

    async with LocalLambda() as lam:
        lam.add_function("fn", handler)
        async with LambdaClient(
            lam.region, endpoint_url=lam.endpoint_url, credentials=lam.credentials
        ) as client:
            result = await client.invoke("fn", payload={"n": 1})
    assert result.payload == b'[true, "fn", {"n": 1}]'


def _hierarchy(root: type) -> dict[str, str]:
    """Each class under ``root`` (its own module's), mapped to the parent it is drawn under:
    its first base."""
    found: dict[str, str] = {}
    cls: type
    for cls in root.__subclasses__():
        found[cls.__name__] = cls.__bases__[0].__name__
        found.update(_hierarchy(cls))
    return found


def _drawn_tree(text: str) -> dict[str, str]:
    """The ``LambdaError`` tree drawn in ``text`` with box characters, as child -> parent."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == "LambdaError")
    indent = lines[start].index("L")
    parents = ["LambdaError"]
    drawn: dict[str, str] = {}
    for line in lines[start + 1 :]:
        match = re.match(r"([│ ]*)[├└]── (\w+)", line[indent:])
        if match is None:
            break
        depth = len(match[1]) // 4
        del parents[depth + 1 :]
        drawn[match[2]] = parents[depth]
        parents.append(match[2])
    return drawn


def test_the_error_lists_and_trees_are_the_hierarchy() -> None:
    hierarchy = _hierarchy(lambdaclient.LambdaError)
    assert sorted(lambdaclient.errors.__all__) == sorted(["LambdaError", *hierarchy])
    assert set(lambdaclient.errors.__all__) <= set(lambdaclient.__all__)
    for name in lambdaclient.errors.__all__:
        assert getattr(lambdaclient, name) is getattr(lambdaclient.errors, name)
    # Both drawings: lambdaclient.errors' docstring and the README's.
    assert _drawn_tree(lambdaclient.errors.__doc__ or "") == hierarchy
    assert _drawn_tree((ROOT / "README.md").read_text()) == hierarchy


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
    assert inspect.iscoroutinefunction(LambdaClient.invoke)  # as AsyncMock(spec=...) needs


def test_importing_with_environment_credentials_does_not_import_botocore() -> None:
    code = (
        "import sys, asyncio, lambdaclient\n"
        "from lambdaclient.transport import Response\n"
        "sent = []\n"
        "class Recorder:\n"
        "    async def send(self, request):\n"
        "        sent.append(request)\n"
        "        return Response(204)\n"
        "    async def aclose(self):\n"
        "        pass\n"
        "c = lambdaclient.LambdaClient('us-east-1', transport=Recorder())\n"
        "asyncio.run(c.delete_alias('fn', 'live'))\n"
        "assert 'Credential=AKIDEXAMPLE/' in sent[0].headers['Authorization']\n"
        "print('botocore' in sys.modules)\n"
    )
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
