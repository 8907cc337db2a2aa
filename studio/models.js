// Models: every version with its metrics, which is promoted and which names are published (publish one under a
// name, unpublish a name); for the chosen version the metrics per label, the confusion matrix, each label's most
// confident mistakes to move, and the report itself (fetched with the key, shown sandboxed).
import { call, json, send, show, enc } from './api.js';
import { h, percent, when } from './dom.js';
import { mistakesSection } from './mistakes.js';

function confusion(labels, matrix) {
  if (!matrix?.length)
    return h('p.muted', { text: 'No confusion matrix (multilabel models have outcomes per label).' });
  const max = Math.max(1, ...matrix.flat());
  return h('table.confusion', { id: 'confusion' },
    h('caption', { text: 'Confusion matrix: rows are the true label, columns the predicted one (test images)' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'true \\ predicted' }),
      ...labels.map(l => h('th', { scope: 'col', text: l })))),
    h('tbody', {}, ...matrix.map((row, i) => h('tr', {}, h('th', { scope: 'row', text: labels[i] }),
      ...row.map((n, j) => h('td', { text: n, class: i === j ? 'hit' : n ? 'miss' : '',
        style: `--share:${(n / max).toFixed(2)}` }))))));
}

function perLabel(metrics) {
  const rows = Object.entries(metrics?.perLabel || {});
  return h('table', {}, h('caption', { text: 'Per label (test images)' }),
    h('thead', {}, h('tr', {}, ...['label', 'precision', 'recall', 'F1', 'images']
      .map(t => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, ...rows.map(([label, m]) => h('tr', {}, h('th', { scope: 'row', text: label }),
      h('td', { text: percent(m.precision) }), h('td', { text: percent(m.recall) }), h('td', { text: percent(m.f1) }),
      h('td', { text: m.support })))));
}

export async function modelsPanel(panel, context) {
  const { dataset } = context;
  const problem = h('div.problem', { role: 'alert' });
  const detail = h('section.model', { id: 'model-detail', 'aria-live': 'polite' });
  const tableBox = h('div.scroll');
  let list;
  try {
    list = await json(`datasets/${dataset}/models`);
  } catch (p) {
    panel.replaceChildren(problem);
    show(problem, p);
    return null;
  }
  if (list.versions.length === 0) {
    panel.replaceChildren(h('p.muted', { text: 'No model yet: train the dataset first.' }));
    return null;
  }
  panel.replaceChildren(problem, tableBox, detail);
  render();
  const versions = [...list.versions].reverse();
  open(versions.find(v => v.promoted) || versions[0]);
  return null;

  function render() {
    const rows = [...list.versions].reverse();
    tableBox.replaceChildren(h('table.versions', { id: 'versions' },
      h('caption', { text: 'Model versions, newest first' }),
      h('thead', {}, h('tr', {}, ...['version', 'created', 'accuracy', 'macro F1', 'published as', 'publish',
        'details'].map(t => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ...rows.map(v => h('tr', { 'data-version': v.version },
        h('th', { scope: 'row' }, v.version, v.promoted ? h('span.badge', { text: 'promoted' }) : null),
        h('td', { text: when(v.createdAt) }), h('td', { text: percent(v.metrics?.accuracy) }),
        h('td', { text: percent(v.metrics?.macroF1) }), published(v), publishForm(v),
        h('td', {}, h('button', { type: 'button', text: 'Open', 'aria-label': `Open version ${v.version}`,
          onclick: () => open(v) })))))));
  }

  /** The names pointing to the version, each with its unpublish button; a failure shows beside them. */
  function published(v) {
    const names = v.names || [];
    const where = h('div.problem', { role: 'alert' });
    if (names.length === 0) return h('td.published', {}, h('span.muted', { text: '–' }));
    return h('td.published', {}, h('ul.names', {}, ...names.map(name => h('li', {}, h('span.name', { text: name }),
      h('button.quiet', { type: 'button', text: 'Unpublish', 'aria-label': `Unpublish ${name} (version ${v.version})`,
        onclick: async () => {
          try {
            await call(`datasets/${dataset}/models/${enc(v.version)}/publish/${enc(name)}`, { method: 'DELETE' });
            await reload(v.version);
          } catch (p) { show(where, p); }
        } })))), where);
  }

  /** A name to publish the version under (publishing a name in use moves it here: a rollback). */
  function publishForm(v) {
    const where = h('div.problem', { role: 'alert', id: `publish-problem-${v.version}` });
    const input = h('input', { name: 'name', required: true, maxLength: 64, autocomplete: 'off',
      placeholder: 'production', 'aria-label': `Name to publish version ${v.version} under`,
      'aria-describedby': where.id });
    return h('td', {}, h('form.row.publish', { onsubmit: async e => {
      e.preventDefault();
      try {
        await send(`datasets/${dataset}/models/${enc(v.version)}/publish`, 'POST', { name: input.value.trim() });
        await reload(v.version);
      } catch (p) { show(where, p); }
    } }, input, h('button', { type: 'submit', text: 'Publish', 'aria-label': `Publish version ${v.version}` })),
    where);
  }

  /** The table again, with the focus back in the version's row (the buttons it was on are gone). */
  async function reload(version) {
    list = await json(`datasets/${dataset}/models`);
    render();
    tableBox.querySelector(`tr[data-version="${CSS.escape(version)}"] input`)?.focus();
  }

  async function open(v) {
    detail.replaceChildren(h('h3', { text: `Version ${v.version}` }),
      h('p', { text: `Labels: ${v.labels.join(', ')} · device ${v.device || '?'} · ` +
        `${v.metrics?.testImages ?? '?'} test images · log loss ${v.metrics?.logLoss?.toFixed(3) ?? '–'}` }),
      perLabel(v.metrics), confusion(v.labels, v.metrics?.confusionMatrix), mistakesSection(dataset, v, context));
    if (!v.files?.includes('report.html')) {
      detail.append(h('p.muted', { text: 'This version has no report.' }));
      return;
    }
    const frame = h('iframe.report', { id: 'report-frame', title: `Training report of ${v.version}`,
      sandbox: 'allow-same-origin', loading: 'lazy' });
    detail.append(h('h3', { text: 'Report' }), frame);
    try {
      frame.srcdoc = await (await call(`datasets/${dataset}/report?version=${enc(v.version)}`)).text();
    } catch (p) { show(problem, p); }
  }
}
