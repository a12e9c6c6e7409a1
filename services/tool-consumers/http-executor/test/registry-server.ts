import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CatalogSnapshot, RegistryPaths, type ToolDefinition } from '@toolbus/contracts';

/**
 * The registry's catalog endpoint, speaking its real contract (`GET /v1/catalog` answering a
 * `CatalogSnapshot`). The registry is another service, so this project's tests cannot start
 * it; the snapshot is checked against the contract's schema before it is served.
 */
export interface CatalogServer {
  url: string;
  /** Headers of every snapshot request. */
  requests: IncomingHttpHeaders[];
  close(): Promise<void>;
}

export async function startCatalogServer(definitions: ToolDefinition[]): Promise<CatalogServer> {
  const snapshot = CatalogSnapshot.parse({
    revision: definitions.length,
    tools: definitions.map((d, i) => ({ name: d.name, revision: i + 1, served: [d] })),
  });
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== RegistryPaths.catalog) {
      res.writeHead(404).end();
      return;
    }
    requests.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(snapshot));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
