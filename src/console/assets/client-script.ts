/**
 * The console's only script, served as /assets/console.js (the CSP allows no inline script): live
 * updates. It listens to /events (server-sent events fed by Kubernetes watches with the viewer's
 * credentials) and replaces the flow cards, or the main part of the page, that a change is about.
 * Everything works without it, by reloading.
 */
export const CLIENT_SCRIPT = String.raw`'use strict';
(function () {
  var body = document.body;
  var live = body.dataset.live;
  if (!live || !window.EventSource || !window.fetch) return;
  var ns = body.dataset.namespace || '';
  var flows = (body.dataset.flows || '').split(' ').filter(Boolean);
  var status = document.getElementById('live-status');
  var pending = new Set();
  var timer = 0;
  var announced = '';
  function say(text) { if (status && announced !== text) { status.textContent = text; announced = text; } }

  function focusKey() {
    var el = document.activeElement;
    if (!el || el === body) return null;
    if (el.id) return { id: el.id };
    if (el.name) return { name: el.name, value: el.value || '' };
    return null;
  }
  function refocus(root, key) {
    if (!key) return;
    var el = key.id ? document.getElementById(key.id) : root.querySelector('[name="' + CSS.escape(key.name) + '"][value="' + CSS.escape(key.value) + '"]');
    if (el && typeof el.focus === 'function') el.focus();
  }

  function replaceCard(name) {
    var card = document.getElementById('flow-' + name);
    if (!card) return Promise.resolve();
    return fetch('/fragments/flow?ns=' + encodeURIComponent(ns) + '&name=' + encodeURIComponent(name), { credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var current = document.getElementById('flow-' + name);
        if (!current) return;
        var key = current.contains(document.activeElement) ? focusKey() : null;
        var holder = document.createElement('div');
        holder.innerHTML = text;
        var next = holder.firstElementChild;
        if (!next) return;
        current.replaceWith(next);
        refocus(next, key);
      });
  }

  function refreshMain() {
    var main = document.getElementById('main');
    var typing = main && main.contains(document.activeElement) && /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    if (!main || typing) return Promise.resolve();
    return fetch(location.href, { credentials: 'same-origin', headers: { 'X-Console-Fragment': 'main' } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (text) { if (text !== null) main.innerHTML = text; });
  }

  // Once a form is sent the page is about to be replaced: changing it now could drop the submission.
  var leaving = false;
  document.addEventListener('submit', function () { leaving = true; });

  function flush() {
    if (leaving) return;
    var names = Array.from(pending);
    pending.clear();
    var work = live === 'cards'
      ? Promise.all(names.map(replaceCard))
      : (names.some(function (n) { return flows.indexOf(n) >= 0; }) ? refreshMain() : Promise.resolve());
    work.catch(function () { say('Live update failed; reload the page to see the latest state.'); });
  }
  function schedule(name) {
    pending.add(name);
    clearTimeout(timer);
    timer = setTimeout(flush, 150);
  }

  var source = new EventSource('/events?ns=' + encodeURIComponent(ns));
  source.addEventListener('flow', function (event) { schedule(event.data); });
  source.addEventListener('reset', function () {
    if (live === 'cards') document.querySelectorAll('[data-flow]').forEach(function (card) { schedule(card.dataset.flow); });
    else flows.forEach(schedule);
  });
  source.addEventListener('open', function () { say('Live updates on.'); });
  source.addEventListener('error', function () { say('Live updates interrupted; reconnecting.'); });

  // A running run's progress moves with time, not only with changes: refresh the busy ones now and then.
  setInterval(function () {
    if (live === 'cards') document.querySelectorAll('[data-active]').forEach(function (card) { schedule(card.dataset.flow); });
    else if (document.querySelector('[data-phase="Running"], .phase-running')) flows.forEach(schedule);
  }, 5000);
})();
`;
