// A function's lifecycle on LocalLambda through the AWS SDK for JavaScript v3, configured by
// the environment alone (the variables `python -m lambdaclient.testing` prints). Prints what
// it saw as one JSON line. Usage: node lifecycle.cjs v1.zip v2.zip
const fs = require("fs");
const {
  LambdaClient,
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  ListFunctionsCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
} = require("@aws-sdk/client-lambda");

const ROLE = "arn:aws:iam::123456789012:role/app";

async function main() {
  const client = new LambdaClient({ maxAttempts: 1 });
  const [v1, v2] = process.argv.slice(2).map((path) => fs.readFileSync(path));
  const seen = {};
  const created = await client.send(
    new CreateFunctionCommand({
      FunctionName: "greet",
      Runtime: "python3.12",
      Role: ROLE,
      Handler: "app.handler",
      Code: { ZipFile: v1 },
    }),
  );
  seen.created = created.FunctionName;
  seen.v1 = (await client.send(new PublishVersionCommand({ FunctionName: "greet" }))).Version;
  await client.send(new UpdateFunctionCodeCommand({ FunctionName: "greet", ZipFile: v2 }));
  seen.v2 = (await client.send(new PublishVersionCommand({ FunctionName: "greet" }))).Version;
  await client.send(
    new CreateAliasCommand({
      FunctionName: "greet",
      Name: "live",
      FunctionVersion: "1",
      RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } },
    }),
  );
  seen.invocations = [];
  for (let i = 0; i < 6; i++) {
    const result = await client.send(
      new InvokeCommand({
        FunctionName: "greet",
        Qualifier: "live",
        Payload: Buffer.from(JSON.stringify({ name: "ada" })),
      }),
    );
    seen.invocations.push([
      result.ExecutedVersion,
      JSON.parse(Buffer.from(result.Payload).toString()),
    ]);
  }
  seen.functions = (await client.send(new ListFunctionsCommand({}))).Functions.map(
    (f) => f.FunctionName,
  );
  await client.send(new DeleteFunctionCommand({ FunctionName: "greet" }));
  try {
    await client.send(new GetFunctionCommand({ FunctionName: "greet" }));
    seen.gone = null;
  } catch (error) {
    seen.gone = error.name;
  }
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
