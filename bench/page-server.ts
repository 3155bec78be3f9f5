import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server that serves `total` records the way WordPress lists a post type
 * (`GET …/wp/v2/<type>?page=N&per_page=M`, `X-WP-Total`/`X-WP-TotalPages`, 400 past the last page),
 * generated on the fly, so listing 100,000 records takes seconds instead of WordPress's minutes.
 */
export async function startPageServer(total: number): Promise<{ baseUrl: string; pages: () => number; close(): Promise<void> }> {
  let pages = 0;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const perPage = Number(url.searchParams.get('per_page') ?? '10');
    const page = Number(url.searchParams.get('page') ?? '1');
    const totalPages = Math.ceil(total / perPage);
    pages++;
    if (page > totalPages && total > 0) {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 'rest_post_invalid_page_number', message: 'The page number requested is larger than the number of pages available.' }));
      return;
    }
    const records = [];
    const modified = new Date(Date.UTC(2026, 0, 1)).toISOString().slice(0, 19);
    for (let id = (page - 1) * perPage + 1; id <= Math.min(total, page * perPage); id++) {
      records.push({
        id,
        date_gmt: modified,
        modified_gmt: modified,
        slug: `seeded-${id}`,
        status: 'publish',
        title: { raw: `Seeded event ${id}`, rendered: `Seeded event ${id}` },
        content: { raw: `Seeded event ${id} with a paragraph of text.`, rendered: `<p>Seeded event ${id} with a paragraph of text.</p>` },
        meta: { event_code: `SEED-${id}`, event_start: '', event_end: '', event_status: '', capacity: 0, location: '', price: 0 },
      });
    }
    response.writeHead(200, { 'content-type': 'application/json', 'x-wp-total': String(total), 'x-wp-totalpages': String(totalPages) });
    response.end(JSON.stringify(records));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pages: () => pages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
