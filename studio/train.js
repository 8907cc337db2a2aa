// Train: fast or default, epochs and fine-tuning up front, every other option in "Advanced", generated from the
// option list the trainer documents (GET /api/training/options). A running job is polled: stage, epoch, loss and
// accuracy curves drawn as reports come, time left; a failed one shows why.
import { json, send, show } from './api.js';
import { h, $, id, percent, when } from './dom.js';
import { lineChart } from './chart.js';

let optionList = null;

function setPath(target, path, value) {
  const parts = path.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) o = o[p] ??= {};
  o[parts[parts.length - 1]] = value;
}

function field(option) {
  const inputId = id('opt');
  const help = h('small', { id: `${inputId}-help`,
    text: `${option.help} (default ${option.default}; ${option.flag})` });
  let input;
  if (option.type === 'choice') {
    input = h('select', { id: inputId }, h('option', { value: '', text: `default (${option.default})` }),
      ...option.choices.map(c => h('option', { value: c, text: c })));
  } else if (option.type === 'switch') {
    input = h('input', { type: 'checkbox', id: inputId });
  } else {
    input = h('input', { type: 'number', id: inputId, step: option.type === 'integer' ? 1 : 'any',
      placeholder: option.default, inputMode: option.type === 'integer' ? 'numeric' : 'decimal' });
  }
  input.setAttribute('aria-describedby', help.id);
  input.dataset.json = option.json;
  input.dataset.type = option.type;
  if (option.type === 'switch') input.dataset.value = option.value;
  return h('div.field', {}, h('label', { for: inputId, text: option.type === 'switch' ? option.flag : option.json }),
    input, help);
}

/** The options the form asks for: the chosen setting's, then each field the user filled in. */
function readOptions(form) {
  const fast = form.elements.setting.value === 'fast';
  const options = fast ? structuredClone(optionList.fast) : {};
  const epochs = form.elements.epochs.value;
  const fineTune = form.elements.fineTune.value;
  if (fineTune) options.fineTune = fineTune;
  if (fineTune === 'always') options.fineTuneEpochs = Number(epochs || optionList.default.fineTuneEpochs || 4);
  else if (epochs) options.fineTuneEpochs = Number(epochs);
  for (const input of form.querySelectorAll('[data-json]')) {
    const { json: name, type } = input.dataset;
    if (type === 'switch') { if (input.checked) setPath(options, name, input.dataset.value === 'true'); continue; }
    if (input.value === '') continue;
    setPath(options, name, type === 'choice' ? input.value : Number(input.value));
  }
  return options;
}

export async function trainPanel(panel, context) {
  const { dataset } = context;
  optionList ??= await json('training/options');
  const problem = h('div.problem', { role: 'alert', id: 'train-problem' });
  const answer = h('p', { id: 'train-answer', 'aria-live': 'polite' });
  const advanced = h('details.advanced', {}, h('summary', { text: 'Advanced options' }),
    h('div.fields', {}, ...optionList.options.map(field)));
  const form = h('form.train', { id: 'train-form' },
    h('fieldset', {}, h('legend', { text: 'Setting' }),
      h('label', {}, h('input', { type: 'radio', name: 'setting', value: 'fast', checked: true }),
        ' Fast: frozen backbone only, a model in the least time'),
      h('label', {}, h('input', { type: 'radio', name: 'setting', value: 'default' }),
        ' Default: fine-tunes where it pays')),
    h('div.row', {},
      h('div.field', {}, h('label', { for: 'epochs', text: 'Fine-tuning epochs' }),
        h('input', { id: 'epochs', name: 'epochs', type: 'number', min: 0, step: 1,
          placeholder: String(optionList.default.fineTuneEpochs) })),
      h('div.field', {}, h('label', { for: 'fine-tune', text: 'Fine-tuning' }),
        h('select', { id: 'fine-tune', name: 'fineTune' }, h('option', { value: '', text: 'as the setting says' }),
          h('option', { value: 'auto', text: 'auto (where it pays)' }), h('option', { value: 'always', text: 'on' }),
          h('option', { value: 'never', text: 'off' })))),
    advanced,
    h('button.primary', { type: 'submit', id: 'train-button', text: 'Train' }), problem, answer);
  form.addEventListener('submit', async e => {
    e.preventDefault();
    show(problem, null);
    try {
      const result = await send(`datasets/${dataset}/train`, 'POST', readOptions(form));
      answer.textContent = result.message;
      history.length = 0;
      poll();
    } catch (p) { show(problem, p); }
  });

  const progress = h('section.progress',
    { id: 'train-progress', 'aria-live': 'polite', 'aria-label': 'Training progress' });
  panel.replaceChildren(form, h('h3', { text: 'Current run' }), progress);

  // The trainer reports its latest epoch only: the curves are what this page saw of the run.
  const history = [];
  let jobId = null, timer = null, stopped = false, wasActive = false;
  async function poll() {
    clearTimeout(timer);
    if (stopped) return;
    let status;
    try { status = await context.refreshStatus(); } catch (p) { show(problem, p); }
    const job = status?.training;
    render(job);
    const active = job && ['queued', 'running'].includes(job.state?.toLowerCase());
    if (active) timer = setTimeout(poll, 1500);
    else if (wasActive) context.loadDatasets();
    wasActive = active;
  }
  function render(job) {
    if (!job) { progress.replaceChildren(h('p.muted', { text: 'No run yet.' })); return; }
    if (job.jobId !== jobId) { jobId = job.jobId; history.length = 0; }
    const p = job.progress;
    if (p && !history.some(x => x.stage === p.stage && x.epoch === p.epoch)) history.push(p);
    const state = job.state.toLowerCase();
    const lines = [h('p', {}, h('strong', { id: 'train-state', text: job.status }),
      ` · job ${job.jobId} · queued ${when(job.queuedAt)}`)];
    if (p) {
      lines.push(h('p', { id: 'train-stage' }, `Stage: ${p.stage}` +
        (p.epochs ? ` · epoch ${p.epoch} of ${p.epochs}` : '') +
        (p.message ? ` · ${p.message}` : '')));
      if (state === 'running' && job.startedAt && p.epochs && p.epoch) {
        const elapsed = (Date.parse(p.at) - Date.parse(job.startedAt)) / 1000;
        const left = elapsed / p.epoch * (p.epochs - p.epoch);
        lines.push(h('p', { text: `About ${Math.max(0, Math.round(left))} s left in this stage.` }));
      }
      const stage = history.filter(x => x.stage === p.stage);
      const s = (key, label, color) =>
        ({ label, color, points: stage.filter(x => x[key] != null).map(x => [x.epoch, x[key]]) });
      // A stage fitted in one go (the lbfgs head) has no curve to draw.
      if (stage.length > 1 || p.epochs > 1) lines.push(h('div.charts', {},
        lineChart(`Loss (${p.stage})`, [s('loss', 'train', '#1f6feb'), s('validationLoss', 'validation', '#d1242f')]),
        lineChart(`Accuracy (${p.stage})`, [s('accuracy', 'train', '#1f6feb'),
          s('validationAccuracy', 'validation', '#d1242f')], { yMax: 1 })));
    }
    if (state === 'succeeded' && job.metrics)
      lines.push(h('p', { id: 'train-result' }, `Test accuracy ${percent(job.metrics.accuracy)}` +
        (job.promoted ? ' · promoted' : ' · not promoted') + (job.reason ? ` · ${job.reason}` : '')));
    if (state === 'failed')
      lines.push(h('p.problem', { id: 'train-failure', role: 'alert' }, h('strong', { text: 'Failed' }),
        ` ${job.reason || ''}`));
    progress.replaceChildren(...lines);
  }
  poll();
  return () => { stopped = true; clearTimeout(timer); };
}
