// Try it: drop, paste, choose or take photo(s); each is scored by the promoted model and shown with its labels as
// bars, the model's threshold marked on each.
import { call, show } from './api.js';
import { h, id, percent } from './dom.js';

export async function tryPanel(panel, context) {
  const { dataset } = context;
  const problem = h('div.problem', { role: 'alert', id: 'try-problem' });
  const results = h('div.results', { id: 'try-results', 'aria-live': 'polite' });
  const inputId = id('try'), cameraId = id('camera');
  const zone = h('div.drop', { id: 'try-drop' },
  h('strong', { text: 'Drop or paste photos here' }), ' to see what the model says.',
  h('div.row', {},
    h('label.button', { for: inputId, text: 'Choose photos' }),
    h('input', { id: inputId, type: 'file', accept: 'image/*', multiple: true,
      onchange: e => score([...e.target.files]) }),
    h('label.button', { for: cameraId, text: 'Take a photo' }),
    h('input', { id: cameraId, type: 'file', accept: 'image/*', capture: 'environment',
      onchange: e => score([...e.target.files]) })));
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', e => {
    e.preventDefault();
    zone.classList.remove('over');
    score([...e.dataTransfer.files]);
  });
  const paste = e => {
    const files = [...(e.clipboardData?.files || [])].filter(f => f.type.startsWith('image/'));
    if (files.length) { e.preventDefault(); score(files); }
  };
  document.addEventListener('paste', paste);
  panel.replaceChildren(zone, problem, results);

  async function score(files) {
    show(problem, null);
    if (files.length === 0) return;
    const form = new FormData();
    files.slice(0, 32).forEach((f, i) => form.append(`image${i}`, f, f.name || `pasted-${i}.png`));
    try {
      const answer = await (await call(`score/${dataset}?all=true`, { method: 'POST', body: form })).json();
      results.replaceChildren(...answer.images.map((image, i) => card(files[i], image, answer.modelVersion)));
    } catch (p) { show(problem, p); }
  }
  return () => document.removeEventListener('paste', paste);
}

function card(file, image, version) {
  const url = URL.createObjectURL(file);
  return h('figure.scored', {},
    h('img', { src: url, alt: `Photo ${file.name || ''}`, width: 120 }),
    h('figcaption', {},
      h('p', {}, h('strong', { class: 'top-label', text: image.predictions[0]?.label || '–' }),
        ` · labels above threshold: ${image.labels.join(', ') || 'none'} · model ${version}`),
      h('ol.bars', { 'aria-label': 'Predictions, most probable first' }, ...image.predictions.map(p =>
        h('li', {}, h('span.bar-label', { text: p.label }),
          h('span.bar', { role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100,
            'aria-valuenow': Math.round(p.probability * 100), 'aria-label': `${p.label} probability` },
          h('span.fill', { style: `width:${(p.probability * 100).toFixed(1)}%`,
            class: p.aboveThreshold ? 'fill above' : 'fill' }),
          h('span.threshold', { style: `left:${(p.threshold * 100).toFixed(1)}%`,
            title: `threshold ${percent(p.threshold)}` })),
          h('span.value', { text: percent(p.probability) }))))));
}
