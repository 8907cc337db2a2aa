// Every call to the app's own HTTP API: the function key (kept in sessionStorage) as x-functions-key, or, where App
// Service authentication signs users in with Microsoft Entra ID, the platform's session cookie and no key at all;
// problems as {title, detail}, and an unreachable API said so and retried.
const KEY = 'pipeline-function-key';
const listeners = new Set();
// 'off' (keys), 'signed-in' (the platform's session; no key), decided once by platformSignIn().
let platform = 'off';

export class Problem extends Error {
  constructor(status, title, detail) {
    super(`${title}: ${detail}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

export const key = {
  get: () => sessionStorage.getItem(KEY),
  set: value => value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY),
};

/** Called with (state) when the API becomes unreachable ('offline', seconds) or reachable again ('online'). */
export function onConnection(listener) { listeners.add(listener); }
let keyPrompt = null;
/** The page's way to ask for a key (returns a promise of the key, or null when the user cancels). */
export function onKeyNeeded(prompt) { keyPrompt = prompt; }

/** App Service authentication's sign-in, coming back to this page (its hash route included). */
export function loginUrl() {
  const back = location.pathname + location.search + location.hash;
  return '/.auth/login/aad?post_login_redirect_uri=' + encodeURIComponent(back);
}

export const logoutUrl = () => '/.auth/logout?post_logout_redirect_uri=' + encodeURIComponent(location.pathname);

/**
 * Whether the platform signs users in: /.auth/me answers only where App Service authentication is on (200 with the
 * session's identity, 401 without one); elsewhere (the local host, keys in Azure) it is missing. Resolves to
 * { state: 'signed-in', name } | { state: 'sign-in-needed' } | { state: 'off' }.
 */
export async function platformSignIn() {
  let response;
  try {
    response = await fetch('/.auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    return { state: 'off' };
  }
  if (response.status === 401 || response.status === 403) return { state: 'sign-in-needed' };
  if (!response.ok) return { state: 'off' };
  let identities = [];
  try { identities = await response.json(); } catch { return { state: 'off' }; }
  if (!Array.isArray(identities)) return { state: 'off' };
  if (identities.length === 0) return { state: 'sign-in-needed' };
  platform = 'signed-in';
  const claims = identities[0].user_claims || [];
  const claim = type => (claims.find(c => c.typ === type) || {}).val;
  return { state: 'signed-in', name: claim('name') || identities[0].user_id || 'signed in' };
}

function headers(extra) {
  const h = new Headers(extra || {});
  const k = key.get();
  if (k) h.set('x-functions-key', k);
  return h;
}

async function problemOf(response) {
  let title = `HTTP ${response.status}`, detail = response.statusText || '';
  try {
    const body = await response.json();
    title = body.title || title;
    detail = body.detail || detail;
  } catch { /* an empty or non-JSON body: the status says it */ }
  if (response.status === 401 && !detail)
    detail = platform === 'signed-in' ? 'The sign-in has ended.' : 'The function key is missing or wrong.';
  return new Problem(response.status, title, detail);
}

/** fetch('/api/' + path): retries while the API cannot be reached (GET only), asks for a key on 401 once. */
export async function call(path, options = {}, retry = true) {
  const method = options.method || 'GET';
  let wait = 1;
  for (;;) {
    let response;
    try {
      response = await fetch('api/' + path, { ...options, headers: headers(options.headers) });
    } catch (e) {
      listeners.forEach(l => l('offline', wait));
      if (method !== 'GET' || !retry)
        throw new Problem(0, 'API unreachable', 'The app does not answer. Is it running?');
      await new Promise(r => setTimeout(r, wait * 1000));
      wait = Math.min(wait * 2, 15);
      continue;
    }
    listeners.forEach(l => l('online'));
    if (response.status === 401 && platform === 'signed-in') {
      // The platform's session ended: sign in again (silently where the browser is still signed in to Entra ID).
      location.assign(loginUrl());
      throw await problemOf(response);
    }
    if (response.status === 401 && keyPrompt && !options.noKeyPrompt) {
      const problem = await problemOf(response);
      const entered = await keyPrompt(problem);
      if (entered) return call(path, { ...options, noKeyPrompt: true }, retry);
      throw problem;
    }
    if (!response.ok) throw await problemOf(response);
    return response;
  }
}

export const json = async (path, options) => (await call(path, options)).json();

export function send(path, method, body) {
  return json(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

/** A PUT of one file with upload progress (fetch has none): resolves with the answer, rejects with a Problem. */
export function put(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', 'api/' + path);
    const k = key.get();
    if (k) xhr.setRequestHeader('x-functions-key', k);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = e => onProgress && onProgress(e.loaded);
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* none */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new Problem(xhr.status, body.title || `HTTP ${xhr.status}`, body.detail || ''));
    };
    xhr.onerror = () => reject(new Problem(0, 'API unreachable', 'The upload could not reach the app.'));
    xhr.send(file);
  });
}

/** Shows a problem (title and detail) in the element next to what caused it; null clears it. */
export function show(element, problem) {
  if (!element) return;
  element.textContent = '';
  if (!problem) return;
  const title = document.createElement('strong');
  title.textContent = problem.title || 'Error';
  element.append(title, ' ', problem.detail || problem.message || '');
}

export const enc = encodeURIComponent;
