// The studio: a dataset list on the side, and the chosen dataset's images, training, models and "try it" as tabs.
// Routes live in the hash (#/d/<dataset>/<tab>) so the back button and links work.
import { call, json, send, key, onConnection, onKeyNeeded, show, platformSignIn, loginUrl, logoutUrl }
  from './api.js';
import { h, $, percent } from './dom.js';
import { imagesPanel } from './images.js';
import { trainPanel } from './train.js';
import { modelsPanel } from './models.js';
import { tryPanel } from './tryit.js';

const panels = { images: imagesPanel, train: trainPanel, models: modelsPanel, try: tryPanel };
const state = { dataset: null, tab: 'images', status: null, stop: null };

async function loadDatasets() {
  const list = $('#datasets');
  try {
    const answer = await json('datasets');
    show($('#datasets-problem'), null);
    list.replaceChildren(...answer.datasets.map(d => h('li', {},
      h('a', { href: `#/d/${d.dataset}/images`, 'aria-current': d.dataset === state.dataset ? 'page' : null },
        h('span.name', { text: d.dataset }),
        h('span.muted', { text: `${d.images} images · ${d.labels} labels` +
          (d.training ? ` · ${d.training}` : '') +
          (d.testAccuracy != null ? ` · ${percent(d.testAccuracy)}` : '') })))));
    if (answer.datasets.length === 0) list.replaceChildren(h('li.muted', { text: 'No dataset yet.' }));
    if (answer.problems?.length) show($('#datasets-problem'), { title: 'Storage', detail: answer.problems.join('; ') });
  } catch (problem) {
    show($('#datasets-problem'), problem);
  }
}

/** The dataset's status (GET /api/datasets/{d}); panels call it to refresh what they show. */
export async function refreshStatus() {
  if (!state.dataset) return null;
  try {
    state.status = await json(`datasets/${state.dataset}`);
  } catch (problem) {
    if (problem.status !== 404) throw problem;
    state.status = { dataset: state.dataset, labels: {}, trainImages: 0, testImages: 0, rejected: [] };
  }
  const s = state.status;
  $('#dataset-summary').textContent = `${s.trainImages} training and ${s.testImages} test images in ` +
    `${Object.keys(s.labels).length} labels` + (s.training ? ` · training ${s.training.status}` : '') +
    (s.model ? ` · promoted ${s.model.version} (${percent(s.model.testAccuracy)} test accuracy)` : '');
  return s;
}

async function route() {
  const match = location.hash.match(/^#\/d\/([a-z0-9-]+)(?:\/(\w+))?/);
  state.stop?.();
  state.stop = null;
  if (!match) {
    state.dataset = null;
    $('#welcome').hidden = false;
    $('#dataset').hidden = true;
    loadDatasets();
    return;
  }
  const [, dataset, tab = 'images'] = match;
  const changed = dataset !== state.dataset;
  state.dataset = dataset;
  state.tab = panels[tab] ? tab : 'images';
  $('#welcome').hidden = true;
  $('#dataset').hidden = false;
  $('#dataset-title').textContent = dataset;
  for (const button of document.querySelectorAll('[role=tab]')) {
    const selected = button.dataset.tab === state.tab;
    button.setAttribute('aria-selected', selected);
    button.tabIndex = selected ? 0 : -1;
    $(`#${button.getAttribute('aria-controls')}`).hidden = !selected;
  }
  if (changed) loadDatasets();
  const panel = $(`#panel-${state.tab}`);
  try {
    await refreshStatus();
    state.stop = await panels[state.tab](panel, { dataset, status: () => state.status, refreshStatus, loadDatasets });
  } catch (problem) {
    const where = h('div.problem', { role: 'alert' });
    panel.replaceChildren(where);
    show(where, problem);
  }
}

function tabs() {
  const list = [...document.querySelectorAll('[role=tab]')];
  list.forEach((button, i) => {
    button.addEventListener('click', () => { location.hash = `#/d/${state.dataset}/${button.dataset.tab}`; });
    button.addEventListener('keydown', e => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = list[(i + step + list.length) % list.length];
      next.focus();
      next.click();
    });
  });
}

function keyDialog() {
  const dialog = $('#key-dialog');
  const ask = problem => new Promise(resolve => {
    $('#key-why').textContent = problem
      ? `${problem.title}: ${problem.detail} Paste the key once: it is kept for this browser tab only.`
      : 'Paste the function key once: it is kept for this browser tab only.';
    $('#key-input').value = key.get() || '';
    const done = value => { dialog.close(); resolve(value); };
    $('#key-form').onsubmit = e => { e.preventDefault(); key.set($('#key-input').value.trim()); done(key.get()); };
    $('#key-cancel').onclick = () => done(null);
    dialog.oncancel = () => resolve(null);
    dialog.showModal();
    $('#key-input').focus();
  });
  onKeyNeeded(ask);
  $('#key-button').addEventListener('click', async () => { if (await ask(null)) route(); });
}

function connection() {
  const banner = $('#offline');
  onConnection((state, seconds) => {
    banner.hidden = state === 'online';
    if (state !== 'online') banner.textContent = `The API cannot be reached; trying again in ${seconds} s.`;
  });
}

$('#new-dataset').addEventListener('submit', async e => {
  e.preventDefault();
  const input = $('#new-dataset-name');
  const problemBox = $('#new-dataset-problem');
  try {
    const answer = await send('datasets', 'POST', { name: input.value.trim() });
    show(problemBox, null);
    input.value = '';
    location.hash = `#/d/${answer.dataset}/images`;
    loadDatasets();
  } catch (problem) {
    show(problemBox, problem);
  }
});

/** Where App Service authentication signs users in, the key button gives way to who is signed in and a sign-out. */
function signedIn(name) {
  const button = $('#key-button');
  button.replaceWith(h('span.who', { text: `Signed in as ${name}` }), ' ',
    h('a.quiet', { href: logoutUrl(), text: 'Sign out' }));
}

async function start() {
  const signIn = await platformSignIn();
  if (signIn.state === 'sign-in-needed') {
    location.assign(loginUrl());
    return;
  }
  if (signIn.state === 'signed-in') signedIn(signIn.name);
  else keyDialog();
  connection();
  tabs();
  window.addEventListener('hashchange', route);
  route();
  // The list's training states and counts change as others upload and train.
  setInterval(() => { if (!document.hidden) loadDatasets(); }, 15000);
}

start();
export { call };
