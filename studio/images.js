// Images: drop a folder of label folders (or train/ and test/ of label folders), or files onto one label; uploads
// skip what the dataset already holds (by SHA-256), run four at a time with a progress bar, and each refused file is
// shown with the split's reason. Per label: counts per split and a paged grid of thumbnails to move or delete.
import { call, json, send, put, show, enc } from './api.js';
import { h, $, id } from './dom.js';

const PAGE = 24;
const SPLITS = ['train', 'test', 'val'];

/** Files of a drop: folders are walked (webkitGetAsEntry), each file with its path inside the drop. */
async function droppedFiles(dataTransfer) {
  const entries = [...dataTransfer.items].map(i => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (entries.length === 0) return [...dataTransfer.files].map(f => ({ file: f, path: f.name }));
  const out = [];
  const walk = async entry => {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, path: entry.fullPath.replace(/^\//, '') });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return out;
}

/** Where a dropped file goes: {label, name, split?}; the dropped dataset folder itself is left out of the path. */
export function placeOf(path, label) {
  let parts = path.split('/').filter(Boolean);
  if (label) return { label, name: parts[parts.length - 1] };
  if (parts.length >= 3 && !SPLITS.includes(parts[0])) parts = parts.slice(1);
  if (parts.length === 2) return { label: parts[0], name: parts[1] };
  if (parts.length === 3 && SPLITS.includes(parts[0])) return { split: parts[0], label: parts[1], name: parts[2] };
  return { problem: `'${path}' is not in a label folder: drop a folder of label folders, or drop files on a label.` };
}

async function sha256(file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('');
}

export async function imagesPanel(panel, context) {
  const { dataset } = context;
  const progress = h('progress', { max: 1, value: 0, id: 'upload-progress', 'aria-label': 'Upload progress' });
  const progressText = h('span', { id: 'upload-progress-text', 'aria-live': 'polite' });
  const uploadProblem = h('div.problem', { role: 'alert', id: 'upload-problem' });
  const refused = h('ul.refused', { id: 'refused', 'aria-label': 'Refused files' });
  const labels = h('div.labels', { id: 'labels' });
  const folderInput = h('input', { type: 'file', multiple: true, webkitdirectory: true, id: id('folder'),
    onchange: e => upload([...e.target.files].map(f => ({ file: f, path: f.webkitRelativePath || f.name }))) });
  // A drop target for the mouse; the button inside is the keyboard's way in.
  const dropZone = h('div.drop', { id: 'drop-dataset' },
  h('strong', { text: 'Drop a folder here' }),
  h('span', { text: ' with one folder of images per label (or train/ and test/ of label folders).' }),
  h('label.button', { for: folderInput.id, text: 'Choose a folder' }), folderInput);
  dropTarget(dropZone, files => upload(files));
  const newLabel = h('form.row', { onsubmit: e => {
    e.preventDefault();
    const name = e.target.elements.label.value.trim();
    if (name) { addLabelCard(name, { train: 0, test: 0 }, true); e.target.reset(); }
  } }, h('label', { for: 'new-label', text: 'New label' }),
  h('input', { id: 'new-label', name: 'label', required: true, maxLength: 100, autocomplete: 'off' }),
  h('button', { type: 'submit', text: 'Add label' }));

  panel.replaceChildren(dropZone, h('div.row', {}, progress, progressText), uploadProblem, refused,
    h('h3', { text: 'Labels' }), newLabel, labels, h('h3', { text: 'Refused uploads' }),
    h('ul.refused', { id: 'rejected-all' }));

  let uploading = false;
  async function upload(items, label) {
    if (uploading) {
      show(uploadProblem, { title: 'Busy', detail: 'An upload is running; drop again when it ends.' });
      return;
    }
    uploading = true;
    show(uploadProblem, null);
    refused.replaceChildren();
    const planned = [];
    for (const item of items) {
      const place = placeOf(item.path, label);
      if (place.problem) refused.append(h('li', {}, h('strong', { text: item.path }), ' ', place.problem));
      else planned.push({ ...item, ...place });
    }
    progress.max = Math.max(planned.length, 1);
    progress.value = 0;
    progressText.textContent = `Checking ${planned.length} files…`;
    try {
      for (const p of planned) p.sha256 = await sha256(p.file);
      const known = new Set();
      for (let i = 0; i < planned.length; i += 1000) {
        const answer = await send(`datasets/${dataset}/images/known`, 'POST',
          { sha256: planned.slice(i, i + 1000).map(p => p.sha256) });
        answer.known.forEach(k => known.add(k));
      }
      const todo = planned.filter(p => !known.has(p.sha256));
      const skipped = planned.length - todo.length;
      let done = skipped, sent = 0;
      progress.value = done;
      const tick = () => {
        progressText.textContent = `${done} of ${planned.length} files` +
          (skipped ? ` (${skipped} already there)` : '');
      };
      tick();
      const uploads = [];
      const worker = async () => {
        while (todo.length) {
          const p = todo.shift();
          const query = p.split ? `?split=${p.split}` : '';
          try {
            const answer = await put(`datasets/${dataset}/images/${enc(p.label)}/${enc(p.name)}${query}`, p.file);
            uploads.push({ path: answer.upload.replace(/^uploads\//, ''), shown: p.path });
            sent++;
          } catch (problem) {
            refused.append(h('li', {}, h('strong', { text: p.path }), ` ${problem.title}: ${problem.detail}`));
          }
          done++;
          progress.value = done;
          tick();
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      progressText.textContent = `${sent} uploaded` + (skipped ? `, ${skipped} already there` : '') +
        '; the split is sorting them…';
      await waitForSplit(uploads);
    } catch (problem) {
      show(uploadProblem, problem);
    } finally {
      uploading = false;
    }
  }

  /** Polls the dataset until every upload is either counted or refused, and lists the refused ones with reasons. */
  async function waitForSplit(uploads) {
    const pending = new Map(uploads.map(u => [u.path, u]));
    const before = total(context.status());
    for (let i = 0; i < 40 && pending.size; i++) {
      await new Promise(r => setTimeout(r, 1000));
      const status = await context.refreshStatus();
      for (const r of status.rejected || []) {
        const u = pending.get(r.path);
        if (!u) continue;
        refused.append(h('li', {}, h('strong', { text: u.shown }), ` refused: ${r.reason}`));
        pending.delete(r.path);
      }
      const accepted = total(status) - before;
      if (accepted + (uploads.length - pending.size) >= uploads.length) break;
    }
    progressText.textContent = `Done: ${uploads.length} uploaded` +
      (refused.children.length ? `, ${refused.children.length} refused (below)` : '') + '.';
    renderLabels();
    context.loadDatasets();
  }

  const total = s => (s?.trainImages || 0) + (s?.testImages || 0);

  function renderLabels() {
    const status = context.status();
    labels.replaceChildren();
    const names = Object.keys(status.labels || {});
    if (names.length === 0) labels.append(h('p.muted', { text: 'No images yet.' }));
    for (const name of names) addLabelCard(name, status.labels[name]);
    const all = $('#rejected-all', panel);
    all.replaceChildren(...(status.rejected || []).map(r =>
      h('li', {}, h('strong', { text: r.path }), ` ${r.reason}`)));
    if (!status.rejected?.length) all.append(h('li.muted', { text: 'None.' }));
  }

  function addLabelCard(name, counts, open) {
    const grid = h('div.grid', { role: 'list', 'aria-label': `Images of ${name}` });
    const pager = h('div.row');
    const problem = h('div.problem', { role: 'alert' });
    const fileInput = h('input', { type: 'file', multiple: true, accept: 'image/*', id: id('files'),
      onchange: e => upload([...e.target.files].map(f => ({ file: f, path: f.name })), name) });
    const split = h('select', { 'aria-label': `Split of ${name}`, onchange: () => page(0) },
      h('option', { value: 'train', text: `train (${counts.train})` }),
      h('option', { value: 'test', text: `test (${counts.test})` }));
    const details = h('details.label', { open: open || false, 'data-label': name },
      h('summary', {}, h('span.name', { text: name }),
        h('span.counts', { text: ` ${counts.train} train · ${counts.test} test` })),
      h('div.row', {}, split, h('label.button', { for: fileInput.id, text: `Add images to ${name}` }), fileInput),
      problem, grid, pager);
    dropTarget(details, files => upload(files, name));
    let loaded = false;
    details.addEventListener('toggle', () => { if (details.open && !loaded) { loaded = true; page(0); } });
    if (open) { loaded = true; page(0); }
    // Opening the card and then choosing a split starts two requests: only the newest may fill the grid.
    let latest = 0;

    async function page(skip) {
      const request = ++latest;
      try {
        const answer = await json(`datasets/${dataset}/images?label=${enc(name)}&split=${split.value}` +
          `&take=${PAGE}&skip=${skip}`);
        if (request !== latest) return;
        show(problem, null);
        const others = Object.keys(context.status().labels || {}).filter(l => l !== name);
        grid.replaceChildren(...answer.images.map(image =>
          thumbnail(image, others, problem, () => refreshAfter(skip))));
        if (answer.images.length === 0) grid.append(h('p.muted', { text: 'No images in this split.' }));
        pager.replaceChildren(
          h('button', { type: 'button', disabled: skip === 0, text: 'Previous', onclick: () => page(skip - PAGE) }),
          h('span', { text: ` ${Math.min(skip + 1, answer.total)}–${Math.min(skip + PAGE, answer.total)} of ` +
            `${answer.total} ` }),
          h('button', { type: 'button', disabled: skip + PAGE >= answer.total, text: 'Next',
            onclick: () => page(skip + PAGE) }));
      } catch (p) { if (request === latest) show(problem, p); }
    }
    async function refreshAfter(skip) {
      await context.refreshStatus();
      renderLabels();
      const card = labels.querySelector(`details[data-label="${CSS.escape(name)}"]`);
      if (card) card.open = true;
    }
    labels.append(details);
  }

  function thumbnail(image, others, problem, changed) {
    const path = `${image.split}/${enc(image.label)}/${image.file}`;
    const img = h('img', { alt: `${image.label} image ${image.file.slice(0, 8)}`, width: 96, height: 96,
      loading: 'lazy' });
    // Fetched with the key (an <img src> could not send the header), then shown from memory.
    call(`datasets/${dataset}/thumbnails/${path}`).then(r => r.blob())
      .then(b => { img.src = URL.createObjectURL(b); }).catch(p => show(problem, p));
    const move = h('select', { 'aria-label': `Move image ${image.file.slice(0, 8)} to label` },
      h('option', { value: '', text: 'Move to…' }), ...others.map(o => h('option', { value: o, text: o })));
    move.addEventListener('change', async () => {
      if (!move.value) return;
      try {
        await send(`datasets/${dataset}/images/${path}/label`, 'POST', { label: move.value });
        await changed();
      } catch (p) { show(problem, p); }
    });
    const remove = h('button.quiet', { type: 'button', text: 'Delete',
      'aria-label': `Delete image ${image.file.slice(0, 8)}`, onclick: async () => {
        try {
          await call(`datasets/${dataset}/images/${path}`, { method: 'DELETE' });
          await changed();
        } catch (p) { show(problem, p); }
      } });
    return h('div.thumb', { role: 'listitem' }, img, h('div.actions', {}, move, remove));
  }

  renderLabels();
  return null;
}

function dropTarget(element, onFiles) {
  element.addEventListener('dragover', e => { e.preventDefault(); element.classList.add('over'); });
  element.addEventListener('dragleave', () => element.classList.remove('over'));
  element.addEventListener('drop', async e => {
    e.preventDefault();
    e.stopPropagation();
    element.classList.remove('over');
    onFiles(await droppedFiles(e.dataTransfer));
  });
}
