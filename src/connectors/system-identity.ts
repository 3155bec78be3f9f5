const DEFAULT_PORTS = { postgres: 5432, mysql: 3306 } as const;

/**
 * Which database a connection URL reaches, without credentials or options: `postgres://host:port/db`.
 * Two flows whose targets give the same identity write the same tables. Hosts are compared as written
 * (`localhost` and `127.0.0.1` differ); a URL that cannot be read gives undefined (nothing is compared).
 */
export function databaseIdentity(kind: keyof typeof DEFAULT_PORTS, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  // libpq's `?host=/run/postgresql` (a socket directory) wins over the URL's host.
  const host = (parsed.searchParams.get('host') ?? decodeURIComponent(parsed.hostname)).toLowerCase() || 'localhost';
  const port = parsed.port || String(DEFAULT_PORTS[kind]);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || parsed.searchParams.get('dbname') || '';
  return `${kind}://${host}:${port}/${database}`;
}
