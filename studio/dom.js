// Small DOM helpers: h('button.primary', {onclick}, 'Train') builds elements without innerHTML (no markup from data).
export function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const element = document.createElement(name);
  if (classes.length) element.className = classes.join(' ');
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) element.addEventListener(k.slice(2), v);
    else if (k === 'text') element.textContent = v;
    else if (k in element && !k.includes('-') && k !== 'list') element[k] = v;
    else element.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false)
    element.append(child instanceof Node ? child : String(child));
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const percent = x => x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`;
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
let ids = 0;
export const id = prefix => `${prefix}-${++ids}`;
