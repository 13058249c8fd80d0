import { createServer, type Server } from "node:http";

/**
 * A stand-in for Secrets Manager's GetSecretValue on 127.0.0.1 (point the SDK at it with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER). Serves the given secrets by id; counts requests; `rotate` replaces a
 * secret's value, as a rotation does.
 */
export async function startFakeSecretsManager(initial: Readonly<Record<string, string>>): Promise<{
  endpoint: string;
  requests: () => number;
  rotate: (secretId: string, value: string) => void;
  close: () => Promise<void>;
}> {
  const secrets: Record<string, string> = { ...initial };
  let requests = 0;
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      requests += 1;
      const target = request.headers["x-amz-target"];
      const { SecretId } = JSON.parse(body || "{}") as { SecretId?: string };
      const secret = SecretId === undefined ? undefined : secrets[SecretId];
      response.setHeader("content-type", "application/x-amz-json-1.1");
      if (target !== "secretsmanager.GetSecretValue" || secret === undefined) {
        response.statusCode = 400;
        response.end(
          JSON.stringify({
            __type: "ResourceNotFoundException",
            message: "Secrets Manager can't find the specified secret.",
          }),
        );
        return;
      }
      response.end(
        JSON.stringify({
          ARN: SecretId,
          Name: "secret",
          SecretString: secret,
          VersionId: "v1",
          CreatedDate: 1,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake Secrets Manager did not bind");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests: () => requests,
    rotate: (secretId, value) => {
      secrets[secretId] = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
