/**
 * The report e-mail's HTML rendered by Debian's Chromium (playwright-core, no browser download): a
 * screenshot per case in test-artifacts/report-email/, and what a reader sees checked in the page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportEmail, type ReportEmailInput } from '../../../src/notify/report-email.js';
import { renderRunSummary, summaryStylesheet } from '../../../src/report/run-summary.js';
import { accessibilityViolations } from '../../e2e/fixtures/browser.js';
import { demoFullReport, exportReport, failedReport, partialRejectsReport, TARGET_PASSWORD } from '../../helpers/run-reports.js';

const ARTIFACTS = join(import.meta.dirname, '../../../test-artifacts/report-email');
const job = { namespace: 'default', flow: 'association', syncJob: 'association-full-x7k2p', mode: 'Full', requestedBy: 'ann@example.org' };

let browser: Browser;
let page: Page;
const outsideRequests: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
  page = await browser.newPage();
  // A mail client loads nothing the message does not carry: any request from the page is a fault.
  await page.route('**/*', (route) => {
    outsideRequests.push(route.request().url());
    return route.abort();
  });
});

afterAll(async () => {
  await browser?.close();
});

interface Rendered {
  headline: string;
  status: string;
  pageText: string;
  /** Elements whose right edge passes the card's, or a page wider than the window. */
  overflowing: string[];
  /** WCAG contrast of the headline and the status label against what is behind them. */
  contrast: { headline: number; status: number };
}

/** Renders the e-mail at a width, writes the screenshot, and reads what a reader would see. */
async function render(input: ReportEmailInput, name: string, width: number): Promise<Rendered> {
  const { html } = renderReportEmail(input);
  await page.setViewportSize({ width, height: 900 });
  await page.setContent(html, { waitUntil: 'load' });
  await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  return page.evaluate(() => {
    const luminance = (rgb: number[]) => {
      const [r, g, b] = rgb.map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const parse = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number);
    const behind = (el: Element): number[] => {
      for (let node: Element | null = el; node; node = node.parentElement) {
        const rgba = parse(getComputedStyle(node).backgroundColor);
        if (rgba.length === 3 || (rgba.length === 4 && rgba[3] > 0)) return rgba.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const contrast = (el: Element) => {
      const [a, b] = [luminance(parse(getComputedStyle(el).color).slice(0, 3)), luminance(behind(el))];
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    };
    const card = document.querySelector('[data-summary="card"]')!;
    const edge = card.getBoundingClientRect().right + 0.5;
    const overflowing = [...card.querySelectorAll('*')]
      .filter((el) => el.getBoundingClientRect().right > edge)
      .map((el) => `${el.tagName.toLowerCase()} ${(el.textContent ?? '').slice(0, 40)}`);
    if (document.documentElement.scrollWidth > window.innerWidth) overflowing.push(`page ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    const headline = document.querySelector('[data-summary="headline"]')!;
    const status = document.querySelector('[data-summary="status"]')!;
    return {
      headline: (headline as HTMLElement).innerText,
      status: (status as HTMLElement).innerText,
      pageText: document.body.innerText,
      overflowing,
      contrast: { headline: contrast(headline), status: contrast(status) },
    };
  });
}

/** Rendered at a desktop mail client's width and a phone's, with the checks both must pass. */
async function renderBoth(input: ReportEmailInput, name: string): Promise<Rendered> {
  const phone = await render(input, name, 360);
  expect(phone.overflowing).toEqual([]);
  // axe-core, as for the console's pages: no serious or critical violation (contrast, labels, table headers, language).
  expect(await accessibilityViolations(page)).toEqual([]);
  const desktop = await render(input, name, 800);
  expect(desktop.overflowing).toEqual([]);
  expect(await accessibilityViolations(page)).toEqual([]);
  for (const rendered of [phone, desktop]) {
    expect(rendered.contrast.headline).toBeGreaterThanOrEqual(4.5);
    expect(rendered.contrast.status).toBeGreaterThanOrEqual(4.5);
  }
  return desktop;
}

describe('the report e-mail in Chromium', () => {
  it('success: the summary line, the changed entities and the idle line', async () => {
    const shown = await renderBoth({ ...job, phase: 'Succeeded', report: demoFullReport(), consoleUrl: 'https://ferry.example.org' }, 'success');
    expect(shown.headline).toBe('2,000 people and 8,876 related rows created in 1.7 s');
    expect(shown.status).toBe('SUCCEEDED');
    expect(await page.locator('[data-summary="idle"]').innerText()).toMatch(/^No changes in 31 entities: lookup_01, .* and 23 more \(124 rows read, all in sync\)$/);
    expect(await page.locator('[data-summary="changed"] tbody tr').count()).toBe(12);
    expect(await page.locator('[data-summary="changed-more"]').innerText()).toBe('11 more entities changed: 1,710 rows (1,710 created)');
    const link = page.locator('[data-summary="link"]');
    expect(await link.isVisible()).toBe(true);
    expect(await link.getAttribute('href')).toBe('https://ferry.example.org/runs/association-full-x7k2p?ns=default');
  });

  it('partial rejects: the first five reasons and how many more', async () => {
    const shown = await renderBoth({ ...job, mode: 'Incremental', phase: 'Succeeded', report: partialRejectsReport() }, 'partial-rejects');
    expect(shown.headline).toBe('231 people and 49 related rows changed (52 created, 228 updated) in 420 ms; 12 rows rejected');
    expect(shown.status).toBe('SUCCEEDED, SOME ROWS REJECTED');
    expect(await page.locator('[data-summary="rejected"] tbody tr').count()).toBe(5);
    expect(await page.locator('[data-summary="rejected"] tbody tr').first().innerText()).toBe('people\n1000\tcolumn email: value too long for type character varying(120)');
    expect(await page.locator('[data-summary="rejected-more"]').innerText()).toBe('… and 7 more rows, each with its reason, in the full report.');
  });

  it('failure: what failed and why, without the password', async () => {
    const shown = await renderBoth({ ...job, phase: 'Failed', reason: 'EngineError', report: failedReport() }, 'failure');
    expect(shown.headline).toMatch(/^Failed after 5\.0 s: cannot connect to the target database at postgres:\/\/ferry:\*\*\*@db\.internal:5432\/website/);
    expect(shown.status).toBe('FAILED');
    expect(shown.pageText.split('cannot connect to the target database')).toHaveLength(2);
    expect(shown.pageText).not.toContain(TARGET_PASSWORD);
  });

  it('export: files and the transfer to each destination', async () => {
    const shown = await renderBoth({ ...job, flow: 'loyalty-export', mode: 'Changes', phase: 'Failed', reason: 'TransferFailed', report: exportReport() }, 'export');
    expect(shown.headline).toBe('2 files (1,500 rows) created; transfer failed to partner-ftps (1 of 2 destinations succeeded) in 1.7 s');
    expect(await page.getByRole('alert').innerText()).toBe('Error: file created, 2 of 4 transfers failed: partner-ftps: members-20261122.csv.gz: AuthFailed: 530 Login incorrect');
    expect(await page.locator('[data-summary="destinations"] tbody tr').allInnerTexts()).toEqual([
      'backup-sftp\ttransferred\t2 of 2\t57,333',
      'partner-ftps\tfailed: members-20261122.csv.gz: AuthFailed: 530 Login incorrect\t0 of 2\t0',
    ]);
  });

  it("the console's class-only markup with the summary stylesheet looks like the e-mail", async () => {
    const rendered = renderRunSummary(partialRejectsReport(), { requestedBy: 'ann@example.org' });
    const looks = async (html: string) => {
      await page.setViewportSize({ width: 800, height: 900 });
      await page.setContent(html, { waitUntil: 'load' });
      return page.evaluate(() =>
        ['[data-summary="card"] td', '[data-summary="status"]', '[data-summary="headline"]', '[data-summary="rejected"] td'].map((selector) => {
          const style = getComputedStyle(document.querySelector(selector)!);
          return [style.color, style.backgroundColor, style.borderLeft, style.fontSize, style.fontWeight, style.padding, style.overflowWrap].join(' | ');
        }),
      );
    };
    const inline = await looks(rendered.toHtml());
    const classes = await looks(`<style>${summaryStylesheet()}</style>${rendered.toHtml({ inlineStyles: false, headingLevel: 2 })}`);
    await page.screenshot({ path: join(ARTIFACTS, 'console-markup-800.png'), fullPage: true });
    expect(classes).toEqual(inline);
    expect(await page.locator('h2[data-summary="headline"]').count()).toBe(1);
  });

  it('loaded nothing from outside the message', () => {
    expect(outsideRequests).toEqual([]);
  });
});
