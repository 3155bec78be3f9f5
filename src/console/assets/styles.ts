/** The console's stylesheet, served as /assets/console.css: system fonts, AA contrast, visible focus. */
import { summaryStylesheet } from '../../report/summary-html.js';

export const STYLES = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #4a5361; --bg: #ffffff; --line: #c9d1db; --accent: #0b5cad; --ok: #17612b; --warn: #8a4b00; --bad: #a1161d; --panel: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--fg); color: #fff; padding: .5em 1em; }
.skip:focus { left: 0; }
.top { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.2em; background: #102a43; color: #fff; flex-wrap: wrap; }
.top a { color: #fff; }
.top nav a { margin-right: 1em; text-decoration: none; }
.top nav a[aria-current="page"] { text-decoration: underline; font-weight: 600; }
.brand { font-weight: 700; font-size: 1.2em; text-decoration: none; }
.top .ns { margin-left: auto; }
.top .ns label { margin-right: .4em; }
main { padding: 1em 1.2em 3em; max-width: 1200px; }
h1 { font-size: 1.6em; margin: .3em 0 .6em; }
h2 { font-size: 1.25em; margin: 1.2em 0 .4em; }
h3 { font-size: 1.05em; margin: .6em 0 .3em; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .8em 1em; margin: 0 0 1em; background: var(--bg); }
.card header { display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; }
.card header h2 { margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: .5em 1.5em; }
.badge { border-radius: 3px; padding: 0 .4em; font-size: .9em; border: 1px solid currentColor; }
.badge.ok { color: var(--ok); }
.badge.warn { color: var(--warn); }
.meta { color: var(--muted); }
.phase { font-weight: 700; }
.phase-running, .phase-scheduled, .phase-queued, .phase-pending { color: var(--accent); }
.phase-succeeded { color: var(--ok); }
.phase-failed, .phase-rejected { color: var(--bad); }
progress { width: 12em; vertical-align: middle; }
table { border-collapse: collapse; margin: .4em 0 1em; }
caption { text-align: left; font-weight: 600; padding: .2em 0; }
th, td { border-bottom: 1px solid var(--line); padding: .25em .6em; text-align: left; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
table.compact { font-size: .92em; }
.categories, .tabs, .schedules, .transfers { list-style: none; padding: 0; margin: 0; }
.categories li { display: inline-block; margin: 0 1em .2em 0; }
.tabs { display: flex; gap: .4em; flex-wrap: wrap; margin-bottom: .8em; }
.tabs a { display: inline-block; padding: .3em .7em; border: 1px solid var(--line); border-radius: 4px; text-decoration: none; }
.tabs a[aria-current="page"] { background: var(--accent); color: #fff; border-color: var(--accent); }
button { font: inherit; padding: .3em .8em; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button:disabled { background: #e4e8ee; color: #4a5361; border-color: #9aa5b1; cursor: not-allowed; }
input, select { font: inherit; padding: .25em .4em; border: 1px solid #6b7785; border-radius: 3px; }
.buttons { display: flex; gap: .5em; flex-wrap: wrap; margin: .5em 0; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .5em 0; }
.actions { border-top: 1px solid var(--line); padding-top: .5em; margin-top: .5em; }
.busy { color: var(--warn); font-weight: 600; }
.readonly { color: var(--muted); font-style: italic; }
.notice { padding: .6em 1em; border-radius: 4px; }
.notice.error { background: #fdecec; color: var(--bad); border: 1px solid var(--bad); }
.notice.info { background: #e8f1fb; color: #0b4a8a; border: 1px solid #0b4a8a; }
form.inline { display: inline; margin-right: .3em; }
.search { margin: .5em 0 1em; }
.pager a { margin-right: 1em; }
.sha { font-size: .85em; word-break: break-all; }
.masked { letter-spacing: .1em; }
.dst { color: var(--warn); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; }
.live-status { position: fixed; bottom: 0; right: 0; margin: 0; padding: .2em .6em; font-size: .85em; color: var(--muted); background: var(--panel); }
.signin { max-width: 40em; margin: 4em auto; }


/* The run summary of src/report (the same as the report e-mail), with class names instead of inline styles. */
${summaryStylesheet()}`;
