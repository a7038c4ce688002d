import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/**
 * A Prometheus scrape endpoint (`GET /metrics`) on our own HTTP server rather than the
 * exporter's built-in one, because the built-in server hides the bound port and we allow
 * port 0 (tests, several services in one process) and must report the real port.
 */
export interface PrometheusEndpoint {
  reader: PrometheusExporter;
  port: number;
  close(): Promise<void>;
}

export async function startPrometheusEndpoint(options: {
  port: number;
  host?: string;
  path?: string;
}): Promise<PrometheusEndpoint> {
  const path = options.path ?? '/metrics';
  const reader = new PrometheusExporter({ preventServerStart: true, endpoint: path });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === path) {
      reader.getMetricsRequestHandler(req, res);
      return;
    }
    res.statusCode = 404;
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    reader,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
