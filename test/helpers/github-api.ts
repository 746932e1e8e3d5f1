import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  authorization: string | undefined;
}

type Handler = (
  req: RecordedRequest,
) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

/**
 * An HTTP server on 127.0.0.1 answering the documented GitHub REST endpoints a test needs
 * (GitHub itself cannot be reached here). Unhandled requests get 404 like the real API.
 */
export async function startGitHubApi(
  handler: Handler,
  options: { token?: string } = {},
): Promise<{ url: string; requests: RecordedRequest[]; stop(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        // GitHub takes percent-encoded path parameters (Octokit encodes the `/` of a ref).
        path: decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname),
        query: new URL(req.url ?? '/', 'http://x').searchParams,
        body: text ? (JSON.parse(text) as unknown) : undefined,
        authorization: req.headers.authorization,
      };
      requests.push(recorded);
      // Like GitHub: with a token to check, a request without it (or with another) is a 401.
      const authorized =
        !options.token ||
        recorded.authorization === `token ${options.token}` ||
        recorded.authorization === `Bearer ${options.token}`;
      const answer = !authorized
        ? { status: 401, body: { message: 'Bad credentials' } }
        : (handler(recorded) ?? { status: 404, body: { message: 'Not Found' } });
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        ...('headers' in answer ? answer.headers : {}),
      });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
