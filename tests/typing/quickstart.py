import asyncio

from lambdaclient import LambdaClient, RoutingConfig


async def main() -> None:
    async with LambdaClient(region="us-east-1") as client:
        alias = await client.create_alias(
            "my-fn",
            "live",
            function_version="1",
            description="prod",
            routing_config=RoutingConfig({"2": 0.1}),  # 10% of traffic to version 2
        )
        alias = await client.get_alias("my-fn", "live")
        # Conditional: fails with PreconditionFailedError if someone changed the alias meanwhile.
        alias = await client.update_alias(
            "my-fn",
            "live",
            function_version="2",
            routing_config=RoutingConfig({}),
            revision_id=alias.revision_id,
        )
        async for alias in client.list_aliases("my-fn"):  # every alias, across pages
            print(alias.name, alias.function_version, alias.routing_config)
        async for page in client.list_aliases("my-fn", page_size=50).pages():
            print(len(page.aliases), page.next_marker)
        await client.delete_alias("my-fn", "live")


asyncio.run(main())
