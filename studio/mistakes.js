// A version's most confident mistakes (mistakes.json): per true label, the test images it gave another label, each
// with a "move to label" control. A move takes the image out of the list and the label counts follow; an image moved
// or deleted since the version was trained (its thumbnail is gone) leaves the list too.
import { call, json, send, show, enc } from './api.js';
import { h, percent } from './dom.js';

const countsText = c => c ? `${c.train} train · ${c.test} test` : 'no images now';

export function mistakesSection(dataset, version, context) {
  const section = h('section.mistakes', { id: 'mistakes', 'aria-labelledby': 'mistakes-title' },
    h('h3', { id: 'mistakes-title', tabindex: -1, text: 'Most confident mistakes (test images)' }));
  if (!version.files?.includes('mistakes.json')) {
    section.append(h('p.muted', { text: 'This version kept no mistakes: multilabel models keep none, nor do ' +
      'versions trained before the trainer kept them.' }));
    return section;
  }
  const problem = h('div.problem', { role: 'alert' });
  const body = h('div');
  section.append(h('p.muted', { text: 'Each label\'s test images the model gave another label, the most ' +
    'confident first. Move one that was filed under the wrong label; the next training sees it there.' }),
  problem, body);
  load();
  return section;

  async function load() {
    let mistakes;
    try {
      mistakes = await json(`datasets/${dataset}/models/${enc(version.version)}/mistakes.json`);
    } catch (p) { show(problem, p); return; }
    const addressable = mistakes.images === 'test-blobs';
    const counters = [];
    const refreshCounts = () => counters.forEach(c => c());
    body.replaceChildren(...Object.entries(mistakes.labels).map(([label, list]) => {
      const counts = h('span.counts');
      counters.push(() => { counts.textContent = ` ${countsText(context.status()?.labels?.[label])}`; });
      const items = h('ul.grid', { 'aria-label': `Mistakes of ${label}`, 'data-label': label });
      const empty = h('p.muted', { text: 'No mistakes.', hidden: list.length > 0 });
      const left = () => {
        empty.hidden = items.children.length > 0;
        if (!empty.hidden) empty.textContent = 'No mistakes left.';
      };
      items.append(...list.map(m => addressable ? item(m, left, refreshCounts)
        : h('li', { text: `${m.image}: ${m.predicted} ${percent(m.confidence)}` })));
      return h('div.mistakes-label', { 'data-label': label },
        h('h4', {}, h('span.name', { text: label }), counts), empty, items);
    }));
    refreshCounts();
  }

  function item(m, left, refreshCounts) {
    // <dataset>/<label>/<file> in the test container, as the image routes address it.
    const [, label, file] = m.image.split('/');
    const path = `test/${enc(label)}/${enc(file)}`;
    const short = file.slice(0, 8);
    const itemProblem = h('div.problem', { role: 'alert' });
    const img = h('img', { alt: `Test image ${short} filed under ${label}`, width: 96, height: 96 });
    const others = Object.keys(context.status()?.labels || {}).filter(l => l !== label);
    if (!others.includes(m.predicted)) others.unshift(m.predicted);
    const target = h('select', { 'aria-label': `Label to move test image ${short} to` },
      ...others.map(o => h('option', { value: o, text: o, selected: o === m.predicted })));
    const li = h('li.thumb.mistake', { 'data-image': m.image }, img,
      h('p.caption', {}, 'predicted ', h('strong', { text: m.predicted }), ` ${percent(m.confidence)}`),
      h('div.actions', {}, target, h('button', { type: 'button', text: 'Move',
        'aria-label': `Move test image ${short} from ${label} to the chosen label`, onclick: move })),
      itemProblem);
    call(`datasets/${dataset}/thumbnails/${path}`).then(r => r.blob())
      .then(b => { img.src = URL.createObjectURL(b); })
      .catch(p => {
        if (p.status === 404) { li.remove(); left(); } // moved or deleted since: nothing to fix
        else show(itemProblem, p);
      });
    return li;

    async function move() {
      try {
        await send(`datasets/${dataset}/images/${path}/label`, 'POST', { label: target.value });
      } catch (p) { show(itemProblem, p); return; }
      // Focus would be lost with the item: the list's next item (or the section) takes it.
      const next = li.nextElementSibling?.querySelector('button') || li.previousElementSibling?.querySelector('button');
      li.remove();
      left();
      (next || section.querySelector('h3')).focus?.();
      try { await context.refreshStatus(); refreshCounts(); } catch (p) { show(problem, p); }
    }
  }
}
