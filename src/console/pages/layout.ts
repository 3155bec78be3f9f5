/** The frame of every page: head with the console's own assets, navigation, and the live-update hook. */
import { html, query, type Html, type HtmlValue } from '../html.js';

export interface PageFrame {
  title: string;
  namespace: string;
  /** `cards`: flow cards are replaced as their flow changes; `main`: the page's main part is refreshed. */
  live?: 'cards' | 'main';
  /** Flows whose changes refresh a `main` page. */
  flows?: string[];
  notice?: { kind: 'error' | 'info'; text: string };
  nav?: 'flows' | 'exports';
  /** The viewer's CSRF token, for scripts that post (the forms carry it too). */
  csrf?: string;
}

export function page(frame: PageFrame, body: HtmlValue): Html {
  const ns = frame.namespace;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${frame.csrf ? html`<meta name="csrf-token" content="${frame.csrf}">` : ''}
<title>${frame.title} · Ferry</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body data-namespace="${ns}" data-live="${frame.live ?? ''}" data-flows="${(frame.flows ?? []).join(' ')}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/${query({ ns })}">Ferry</a>
  <nav aria-label="Main">
    <a href="/${query({ ns })}"${frame.nav === 'flows' ? html` aria-current="page"` : ''}>Flows</a>
    <a href="/exports${query({ ns })}"${frame.nav === 'exports' ? html` aria-current="page"` : ''}>Exports</a>
  </nav>
  <form class="ns" method="get" action="/">
    <label for="ns-input">Namespace</label>
    <input id="ns-input" name="ns" value="${ns}" size="16" autocomplete="off">
    <button type="submit">Open</button>
  </form>
</header>
<main id="main" tabindex="-1">
${frame.notice ? html`<p class="notice ${frame.notice.kind}" role="${frame.notice.kind === 'error' ? 'alert' : 'status'}">${frame.notice.text}</p>` : ''}
<h1>${frame.title}</h1>
${body}
</main>
<p id="live-status" class="live-status" role="status" aria-live="polite"></p>
</body>
</html>
`;
}

export function signInPage(reason: string, signInUrl?: string): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Ferry</title><link rel="stylesheet" href="/assets/console.css"></head>
<body><main id="main" class="signin"><h1>Sign in to Ferry</h1><p>${reason}</p>${signInUrl ? html`<p><a href="${signInUrl}">Sign in</a></p>` : ''}</main></body></html>
`;
}

/** A hidden CSRF field for every action form. */
export const csrfField = (token: string): Html => html`<input type="hidden" name="_csrf" value="${token}">`;

/** "Previous / Next" links of a paged list. */
export function pager(base: string, params: Record<string, string | undefined>, next: string | undefined, label: string): Html {
  if (!next && !params.continue) return html``;
  return html`<nav class="pager" aria-label="${label} pages">
    ${params.continue ? html`<a href="${base}${query({ ...params, continue: undefined })}">First page</a>` : ''}
    ${next ? html`<a href="${base}${query({ ...params, continue: next })}">Next page</a>` : ''}
  </nav>`;
}

export const time = (iso: string | undefined): Html =>
  iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}</time>` : html`-`;
